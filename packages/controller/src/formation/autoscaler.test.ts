import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { startAutoscaler } from './autoscaler.ts';
import type { Autoscaler } from './autoscaler.ts';
import { LABEL } from './container-spec.ts';
import { whenAppIdle } from './formation-state.ts';

describe('the autoscaler', () => {
  let controller: TestController;
  let alice: string;
  let autoscaler: Autoscaler;
  /** The fake clock the stabilisation windows are measured on. */
  let clock: number;
  const errors: unknown[] = [];

  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    const build = await controller.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } } });
    expect(build.status, build.body).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    clock = 1_000_000;
    errors.length = 0;
    // The timer never fires in a test: passes run when the test says.
    autoscaler = startAutoscaler(controller.deps, {
      syncPeriodMs: 3_600_000,
      windows: { scaleUpMs: 0, scaleDownMs: 300_000 },
      now: () => clock,
      onError: (_app, error) => errors.push(error),
    });
  });
  afterEach(async () => {
    await autoscaler.stop();
    await controller.close();
  });

  const settings = (body: unknown) => controller.call('POST', '/v2/apps/demo/settings/', { token: alice, body });
  const setRule = async (rule: { min: number; max: number; cpu_percent: number } | null, type = 'web') => expect((await settings({ autoscale: { [type]: rule } })).status).toBe(201);
  const structure = async () => ((await controller.call('GET', '/v2/apps/demo/', { token: alice })).json as { structure: Record<string, number> }).structure;
  const containers = async (type = 'web') => (await controller.scheduler.list({ [LABEL.app]: 'demo', [LABEL.type]: type })).filter((c) => c.state === 'up');
  /** Gives every running container of the type this CPU, in thousandths of a core. */
  const load = async (cpuMillis: number, type = 'web') => {
    for (const container of await containers(type)) controller.scheduler.setStats(container.name, cpuMillis);
  };
  const pass = async (advanceMs = 15_000) => {
    clock += advanceMs;
    await autoscaler.syncNow();
    await whenAppIdle(controller.deps, 'demo');
  };
  const events = async () => (await controller.deps.db.selectFrom('log_lines').select('line').orderBy('id').execute()).map((row) => row.line);

  it('scales up at once on CPU above the target, through the scale path, and logs it', async () => {
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    const generation = controller.deps.routing.generation;
    await load(900);
    await pass();
    expect(await structure()).toEqual({ web: 2 });
    expect(await containers()).toHaveLength(2);
    expect(controller.deps.routing.generation).toBeGreaterThan(generation);
    expect((await events()).at(-1)).toMatch(/deis\[controller\]: INFO autoscaler scaled pods web=2 \(cpu 90% of 60%\)$/);
    // Two at 90%: ceil(2 × 1.5) = 3.
    await load(900);
    await pass();
    expect(await structure()).toEqual({ web: 3 });
    expect(errors).toEqual([]);
  });

  it('measures CPU against the request set by limits, and one core without one', async () => {
    expect((await controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { cpu: { web: '250m/1' } } })).status).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    // 200m of a 250m request is 80%: ceil(1 × 80 / 60) = 2. Against one core it would be 20%, no change.
    await load(200);
    await pass();
    expect(await structure()).toEqual({ web: 2 });
    expect((await events()).at(-1)).toMatch(/autoscaler scaled pods web=2 \(cpu 80% of 60%\)$/);
  });

  it('changes nothing within 10% of the target', async () => {
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    await load(650);
    await pass();
    await load(550);
    await pass(400_000);
    expect(await structure()).toEqual({ web: 1 });
  });

  it('scales down only after the scale-down window, and does not flap when load comes and goes', async () => {
    await setRule({ min: 1, max: 5, cpu_percent: 50 });
    await load(1000);
    await pass();
    expect(await structure()).toEqual({ web: 2 });
    // Load that comes and goes every pass, for longer than the window: up when busy, never down.
    const seen: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      await load(i % 2 === 0 ? 10 : 600);
      await pass();
      seen.push((await structure()).web!);
    }
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    const busiest = seen.at(-1)!;
    expect(busiest).toBeGreaterThan(2);
    // Idle from now on: nothing is removed within 300 s of the last busy recommendation…
    await load(0);
    await pass();
    await load(0);
    await pass(270_000);
    expect((await structure()).web).toBe(busiest);
    // …and once it has passed, straight down to the minimum.
    await load(0);
    await pass(31_000);
    expect(await structure()).toEqual({ web: 1 });
    expect((await events()).at(-1)).toMatch(/autoscaler scaled pods web=1 \(cpu 0% of 50%\)$/);
  });

  it('stays within min and max, moving a count outside them to the nearest bound', async () => {
    await setRule({ min: 2, max: 3, cpu_percent: 60 });
    await pass();
    expect(await structure()).toEqual({ web: 2 });
    expect((await events()).at(-1)).toMatch(/autoscaler scaled pods web=2 \(below the minimum of 2\)$/);
    await load(5000);
    await pass();
    expect(await structure()).toEqual({ web: 3 });
    await setRule({ min: 1, max: 2, cpu_percent: 60 });
    await pass();
    expect(await structure()).toEqual({ web: 2 });
    expect((await events()).at(-1)).toMatch(/\(above the maximum of 2\)$/);
  });

  it('stops when unset, leaving the count where it was, and leaves other types alone', async () => {
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    await load(900);
    await pass();
    expect(await structure()).toEqual({ web: 2 });
    await setRule(null);
    await load(5000);
    await pass();
    await load(0);
    await pass(600_000);
    expect(await structure()).toEqual({ web: 2 });
    // worker had no rule at any point and is at 0: untouched.
    expect(await containers('worker')).toHaveLength(0);
  });

  it('leaves a type alone whose containers have no sample yet', async () => {
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    for (const container of await containers()) controller.scheduler.setStats(container.name, null);
    await pass();
    expect(await structure()).toEqual({ web: 1 });
    controller.scheduler.failNext('stats', 5);
    await pass();
    expect(await structure()).toEqual({ web: 1 });
  });

  it('refuses a manual scale of an autoscaled type with a 400 saying how to stop autoscaling, but scales other types', async () => {
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    const refused = await controller.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { web: 3 } });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      detail: 'Cannot scale web by hand: it is autoscaled between 1 and 5 containers at 60% CPU; unset its autoscaling first (deis autoscale:unset web)',
    });
    // Refused as a whole, even with a type that is not autoscaled beside it.
    expect((await controller.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { worker: 1, web: 2 } })).status).toBe(400);
    expect(await structure()).toEqual({ web: 1 });
    expect((await controller.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { worker: 2 } })).status).toBe(204);
    await setRule(null);
    expect((await controller.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { web: 3 } })).status).toBe(204);
    expect(await structure()).toEqual({ web: 3, worker: 2 });
  });

  it('respects the tenant limits: a refused scale is reported, and the app keeps its count', async () => {
    await controller.close();
    await autoscaler.stop();
    controller = await startTestController({ limits: { ...controller.deps.settings.limits, containersPerApp: 2 } });
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    expect((await controller.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve' } } })).status).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    autoscaler = startAutoscaler(controller.deps, { syncPeriodMs: 3_600_000, windows: { scaleUpMs: 0, scaleDownMs: 300_000 }, now: () => clock, onError: (_app, error) => errors.push(error) });
    await setRule({ min: 1, max: 5, cpu_percent: 60 });
    await load(5000);
    await pass();
    expect(await structure()).toEqual({ web: 1 });
    expect(String(errors[0])).toMatch(/DEIS_LIMIT_CONTAINERS_PER_APP/);
  });

  it('samples no more containers at once than its bound', async () => {
    await autoscaler.stop();
    autoscaler = startAutoscaler(controller.deps, { syncPeriodMs: 3_600_000, windows: { scaleUpMs: 0, scaleDownMs: 300_000 }, now: () => clock, parallelStats: 2 });
    await setRule({ min: 1, max: 10, cpu_percent: 60 });
    await setRule(null);
    expect((await controller.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { web: 8 } })).status).toBe(204);
    await setRule({ min: 1, max: 10, cpu_percent: 60 });
    const original = controller.scheduler.stats.bind(controller.scheduler);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    controller.scheduler.stats = async (name) => {
      calls += 1;
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return original(name);
    };
    await pass();
    expect(calls).toBe(8);
    expect(most).toBe(2);
  });
});
