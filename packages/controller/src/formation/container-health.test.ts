import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recentEvents } from '../events/event-log.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { startHealthMonitor } from './container-health.ts';
import { formationState } from './formation-state.ts';
import { scaleApp } from './scale.ts';
import type { HealthMonitor } from './container-health.ts';
import { appUpstreams } from './upstreams.ts';
import { deploySeeded, seedApp } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';

/** Periods in tests are fractions of a second: the monitor takes any positive number of seconds. */
const PERIOD_S = 0.05;

describe('the health monitor', () => {
  let controller: TestController;
  let app: SeededApp;
  let monitor: HealthMonitor | null = null;
  beforeEach(async () => {
    controller = await startTestController();
    await controller.user('alice');
    app = await seedApp(controller, 'demo', 'alice');
  });
  afterEach(async () => {
    await monitor?.stop();
    monitor = null;
    await controller.close();
  });

  const running = async () => (await controller.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up');
  const names = async () => (await running()).map((c) => c.name).sort();
  const deployWeb = async (healthcheck: Record<string, unknown>, web = 2) => {
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve' } }, { healthcheck: { web: healthcheck } });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web }) }).where('uuid', '=', app.uuid).execute();
    if (web > 1) await scaleApp(controller.deps, app.uuid, app.id, 'alice', { web });
    return names();
  };
  const liveness = (extra: Record<string, unknown> = {}) => ({ livenessProbe: { httpGet: { path: '/live', port: 5000 }, periodSeconds: PERIOD_S, failureThreshold: 3, ...extra } });
  const hang = (name: string) => controller.scheduler.setReady(name, (check) => check.kind !== 'http');

  it('replaces a container failing liveness failureThreshold times in a row: out of the router first, then a new one', async () => {
    const [first, second] = await deployWeb(liveness());
    // Out of the router as soon as it is replaced, before its replacement starts.
    const original = controller.scheduler.start.bind(controller.scheduler);
    let upstreamsAtStart: string[] = [];
    vi.spyOn(controller.scheduler, 'start').mockImplementationOnce(async (spec) => {
      upstreamsAtStart = (await appUpstreams(controller.deps, { id: 'demo' })).map((u) => u.host);
      return original(spec);
    });
    const firstHost = (await running()).find((c) => c.name === first)!.address!.host;
    hang(first!);
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    await expect.poll(names, { timeout: 5_000 }).not.toContain(first);
    await monitor.settled();
    expect(await running()).toHaveLength(2);
    expect(await names()).toContain(second);
    expect(upstreamsAtStart).not.toContain(firstHost);
    expect(upstreamsAtStart).toHaveLength(1);
    const events = (await recentEvents(controller.deps.db, app.uuid, 10)).map((e) => e.line);
    expect(events.some((line) => line.includes(`deis[controller]: INFO ${first} failed its liveness probe 3 times in a row`))).toBe(true);
  });

  it('probes each container once per periodSeconds with timeoutSeconds, and not within initialDelaySeconds', async () => {
    const [web] = await deployWeb(liveness({ periodSeconds: 0.2, timeoutSeconds: 7 }), 1);
    const probe = vi.spyOn(controller.scheduler, 'probe');
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const calls = probe.mock.calls.filter(([name, check]) => name === web && check.kind === 'http');
    // Five periods in the second (one at once, then every 200 ms), give or take a busy machine's tick.
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.length).toBeLessThanOrEqual(6);
    expect(calls[0]![2].timeoutMs).toBe(7_000);
    await monitor.stop();

    const [delayed] = await deployWeb(liveness({ initialDelaySeconds: 3600, failureThreshold: 1 }), 1);
    hang(delayed!);
    probe.mockClear();
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    await monitor.syncNow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(probe.mock.calls.filter(([name]) => name === delayed)).toEqual([]);
    expect(await names()).toEqual([delayed]);
  });

  it('runs exec probes through the scheduler, one call per check', async () => {
    const [web] = await deployWeb({ livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: PERIOD_S, failureThreshold: 2 } }, 1);
    controller.scheduler.setReady(web!, (check) => check.kind !== 'exec');
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    await expect.poll(names, { timeout: 5_000 }).not.toContain(web);
    await monitor.settled();
    expect(await running()).toHaveLength(1);
  });

  it('keeps a container that stops being ready out of the router until it passes successThreshold times again', async () => {
    const readinessProbe = { httpGet: { path: '/ready', port: 5000 }, periodSeconds: PERIOD_S, failureThreshold: 2, successThreshold: 2 };
    const [first, second] = await deployWeb({ readinessProbe });
    const hostOf = async (name: string) => (await running()).find((c) => c.name === name)!.address!.host;
    const upstreams = async () => (await appUpstreams(controller.deps, { id: 'demo' })).map((u) => u.host).sort();
    const [firstHost, secondHost] = [await hostOf(first!), await hostOf(second!)];
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    controller.scheduler.setReady(first!, (check) => check.kind !== 'http');
    await expect.poll(upstreams, { timeout: 5_000 }).toEqual([secondHost]);
    // Not replaced: readiness only takes it out of traffic.
    expect(await names()).toEqual([first, second].sort());
    controller.scheduler.setReady(first!, () => true);
    await expect.poll(upstreams, { timeout: 5_000 }).toEqual([firstHost, secondHost].sort());
    const events = (await recentEvents(controller.deps.db, app.uuid, 10)).map((e) => e.line);
    expect(events.some((line) => line.includes(`${first} failed its readiness probe 2 times in a row`))).toBe(true);
    expect(events.some((line) => line.includes(`${first} passes its readiness probe again`))).toBe(true);
  });

  it('leaves containers a rollout still waits on to the rollout', async () => {
    const [web] = await deployWeb(liveness({ failureThreshold: 1 }), 1);
    formationState(controller.deps).notReady.add(web!);
    hang(web!);
    const probe = vi.spyOn(controller.scheduler, 'probe');
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    await monitor.syncNow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(probe).not.toHaveBeenCalled();
    expect(await names()).toEqual([web]);
  });

  it('counts neither a pass nor a failure when the engine does not answer', async () => {
    const [web] = await deployWeb(liveness({ failureThreshold: 2 }), 1);
    controller.scheduler.failNext('probe', 1_000);
    monitor = startHealthMonitor(controller.deps, { tickMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await names()).toEqual([web]);
  });
});
