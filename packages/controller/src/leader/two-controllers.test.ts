import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { whenAppIdle } from '../formation/formation-state.ts';
import { DEFAULT_LIMITS } from '../settings.ts';
import type { ControllerSettings } from '../settings.ts';

/**
 * Two controllers on one PostgreSQL store and one engine, as two controller processes of a cluster (ADR 0016): the
 * same app changed through both at once loses no change, numbers every release once, and ends with the containers
 * its structure says.
 */
describe.skipIf(!process.env.DEIS_TEST_DATABASE_URL)('two controllers on one store', () => {
  let a: TestController;
  let b: TestController;
  afterEach(async () => {
    await b?.close();
    await a?.close();
  });

  const start = async (overrides: Partial<ControllerSettings> = {}) => {
    a = await startTestController(overrides);
    b = await startTestController(overrides, { sharing: a });
    const alice = await a.user('alice');
    expect((await b.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    return alice;
  };

  const releases = async () =>
    (await a.deps.db.selectFrom('releases').innerJoin('apps', 'apps.uuid', 'releases.app_uuid').select(['version', 'failed']).where('apps.id', '=', 'demo').orderBy('version').execute()).map((r) => r.version);

  const running = async () => (await a.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up');

  it('number concurrent config changes, builds and scales once each, in one sequence, and lose none', async () => {
    const alice = await start();
    expect((await a.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } } })).status).toBe(201);

    // Both controllers' rollouts are slowed a little, so that unlocked ones would overlap.
    const start0 = a.scheduler.start.bind(a.scheduler);
    vi.spyOn(a.scheduler, 'start').mockImplementation(async (spec) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return start0(spec);
    });

    const via = (i: number) => (i % 2 === 0 ? a : b);
    const configs = Array.from({ length: 12 }, (_, i) => via(i).call('POST', '/v2/apps/demo/config/', { token: alice, body: { values: { [`KEY_${i}`]: `value-${i}` } } }));
    const builds = [2, 3].map((n, i) => via(i + 1).call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: `example/app:${n}`, procfile: { web: 'serve', worker: 'work' } } }));
    const scales = [
      a.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { web: 3 } }),
      b.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { worker: 2 } }),
    ];
    const answers = await Promise.all([...configs, ...builds, ...scales]);
    expect(answers.map((r) => r.status)).toEqual([...configs.map(() => 201), ...builds.map(() => 201), 204, 204]);
    await whenAppIdle(a.deps, 'demo');
    await whenAppIdle(b.deps, 'demo');

    // v1 (create), v2 (first build), then one release per change: consecutive, none twice, none lost.
    expect(await releases()).toEqual(Array.from({ length: 2 + 12 + 2 }, (_, i) => i + 1));
    const config = (await b.call('GET', '/v2/apps/demo/config/', { token: alice })).json as { values: Record<string, string> };
    for (let i = 0; i < 12; i++) expect(config.values[`KEY_${i}`]).toBe(`value-${i}`);

    // The engine runs exactly the structure both controllers agree on, all of the newest release.
    const app = (await a.call('GET', '/v2/apps/demo/', { token: alice })).json as { structure: Record<string, number> };
    expect((await b.call('GET', '/v2/apps/demo/', { token: alice })).json).toMatchObject({ structure: app.structure });
    expect(app.structure).toEqual({ web: 3, worker: 2 });
    const containers = await running();
    expect(new Set(containers.map((c) => c.labels['io.deis.release']))).toEqual(new Set(['v16']));
    expect(containers.filter((c) => c.labels['io.deis.type'] === 'web')).toHaveLength(3);
    expect(containers.filter((c) => c.labels['io.deis.type'] === 'worker')).toHaveLength(2);
  });

  it("hold an app's lock against each other: a deploy on one waits for a scale on the other to end", async () => {
    const alice = await start();
    expect((await a.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve' } } })).status).toBe(201);
    // The scale on a hangs in its new container's readiness wait until released.
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const waitReady = a.scheduler.waitReady.bind(a.scheduler);
    vi.spyOn(a.scheduler, 'waitReady').mockImplementation(async (name, check, timeout) => {
      await gate;
      return waitReady(name, check, timeout);
    });
    const order: string[] = [];
    const scale = a.call('POST', '/v2/apps/demo/scale/', { token: alice, body: { web: 2 } }).then((r) => order.push(`scale ${r.status}`));
    await expect.poll(async () => (await running()).length).toBe(2);
    const push = b.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:2', procfile: { web: 'serve' } } }).then((r) => order.push(`push ${r.status}`));
    // b stored its release but may not roll it out while a holds the app.
    await expect.poll(async () => (await releases()).length).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order).toEqual([]);
    expect(new Set((await running()).map((c) => c.labels['io.deis.release']))).toEqual(new Set(['v2']));
    letGo();
    await Promise.all([scale, push]);
    expect(order).toEqual(['scale 204', 'push 201']);
    await whenAppIdle(b.deps, 'demo');
    const containers = await running();
    expect(containers.map((c) => c.labels['io.deis.release'])).toEqual(['v3', 'v3']);
  });

  it('count one-off runs against the limits across both: a run through one fills the slot for the other', async () => {
    const alice = await start({ limits: { ...DEFAULT_LIMITS, runsPerApp: 1 } });
    expect((await a.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve' } } })).status).toBe(201);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let running = 0;
    a.scheduler.runHandler = async () => {
      running++;
      await finished;
      return { exitCode: 0, output: 'done\n' };
    };
    const first = a.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'sleep' } });
    await expect.poll(() => running).toBe(1);
    expect((await b.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'again' } })).status).toBe(429);
    finish();
    expect((await first).status).toBe(200);
    // The slot is free again, through either controller.
    expect((await b.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'again' } })).status).toBe(200);
  });

  it("keep every one of concurrent changes of an app's settings made through both", async () => {
    const alice = await start();
    const addresses = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
    const added = await Promise.all(addresses.map((address, i) => (i % 2 === 0 ? a : b).call('POST', '/v2/apps/demo/whitelist', { token: alice, body: { addresses: [address] } })));
    expect(added.map((r) => r.status)).toEqual(addresses.map(() => 201));
    const labels = await Promise.all(['x', 'y', 'z'].map((key, i) => (i % 2 === 0 ? b : a).call('POST', '/v2/apps/demo/settings', { token: alice, body: { label: { [key]: '1' } } })));
    expect(labels.map((r) => r.status)).toEqual([201, 201, 201]);
    const settings = (await a.call('GET', '/v2/apps/demo/settings', { token: alice })).json as { whitelist: string[]; label: Record<string, string> };
    expect([...settings.whitelist].sort()).toEqual([...addresses].sort());
    expect(settings.label).toEqual({ x: '1', y: '1', z: '1' });
  });
});
