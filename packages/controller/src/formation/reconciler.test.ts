import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { noteStopping } from './formation-state.ts';
import { recentEvents } from '../events/event-log.ts';
import { listPods } from './pods.ts';
import { listPlatform, reconcileApp, startReconciler } from './reconciler.ts';
import { appUpstreams } from './upstreams.ts';
import type { Reconciler } from './reconciler.ts';
import { scaleApp } from './scale.ts';
import { deploySeeded, seedApp, seedRelease } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';

describe('the reconciler', () => {
  let controller: TestController;
  let app: SeededApp;
  let reconciler: Reconciler | null = null;
  beforeEach(async () => {
    controller = await startTestController();
    await controller.user('alice');
    app = await seedApp(controller, 'demo', 'alice');
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 2, worker: 1 }) }).where('uuid', '=', app.uuid).execute();
  });
  afterEach(async () => {
    await reconciler?.stop();
    reconciler = null;
    await controller.close();
  });

  const running = async () => (await controller.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up');
  const countByType = async () => {
    const counts: Record<string, number> = {};
    for (const c of await running()) counts[c.labels['io.deis.type']!] = (counts[c.labels['io.deis.type']!] ?? 0) + 1;
    return counts;
  };

  it('starts what the structure asks for when containers are missing, as after a platform restart', async () => {
    expect(await countByType()).toEqual({ web: 1 });
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000 });
    await reconciler.reconcileNow();
    expect(await countByType()).toEqual({ web: 2, worker: 1 });
    for (const spec of controller.scheduler.specs()) await controller.scheduler.stop(spec.name, 0);
    await reconciler.reconcileNow();
    expect(await countByType()).toEqual({ web: 2, worker: 1 });
    expect(new Set((await running()).map((c) => c.labels['io.deis.release']))).toEqual(new Set(['v2']));
  });

  it('lists the engine once per pass, however many apps it converges', async () => {
    const others = [await seedApp(controller, 'second', 'alice'), await seedApp(controller, 'third', 'alice')];
    for (const other of others) {
      await deploySeeded(controller, other, { image: 'example/other:1', procfile: { web: 'serve' } });
      await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 2 }) }).where('uuid', '=', other.uuid).execute();
    }
    const list = vi.spyOn(controller.scheduler, 'list');
    // The health monitor lists on its own; this counts the reconciler's listings.
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000, health: false });
    await reconciler.reconcileNow();
    // The pass at start, then this one.
    expect(list).toHaveBeenCalledTimes(2);
    expect(await countByType()).toEqual({ web: 2, worker: 1 });
    for (const other of others) {
      expect((await controller.scheduler.list({ 'io.deis.app': other.id })).filter((c) => c.state === 'up')).toHaveLength(2);
    }
  });

  it("lists an app again when its lock was held after the pass's listing, which may no longer be true", async () => {
    const listing = await listPlatform(controller.deps);
    // Starts the web and worker containers the structure asks for, after the listing.
    await scaleApp(controller.deps, app.uuid, app.id, 'alice', { web: 2, worker: 1 });
    await reconcileApp(controller.deps, app.uuid, { listing });
    expect(await countByType()).toEqual({ web: 2, worker: 1 });
  });

  it('restarts a crashed container in place soon after the engine reports it, out of the router until it is ready', async () => {
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000, reactAfterMs: 10, health: { tickMs: 10 } });
    await reconciler.reconcileNow();
    const [victim] = (await running()).filter((c) => c.labels['io.deis.type'] === 'web');
    const generation = controller.deps.routing.generation;
    const names = (await controller.scheduler.list({ 'io.deis.app': 'demo' })).map((c) => c.name).sort();
    // Not listening yet once restarted: it must not take traffic before it passes.
    controller.scheduler.behaviour = () => ({ ready: () => false });
    controller.scheduler.crash(victim!.name);
    expect(controller.deps.routing.generation).toBeGreaterThan(generation);
    await expect.poll(async () => (await running()).map((c) => c.name)).toContain(victim!.name);
    expect((await controller.scheduler.list({ 'io.deis.app': 'demo' })).map((c) => c.name).sort()).toEqual(names);
    const pods = (await listPods(controller.deps, 'demo')).filter((p) => p.name === victim!.name);
    expect(pods).toEqual([expect.objectContaining({ state: 'up', restarts: 1 })]);
    const host = () => running().then((all) => all.find((c) => c.name === victim!.name)!.address!.host);
    const upstreams = async () => (await appUpstreams(controller.deps, { id: 'demo' })).map((u) => u.host);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await upstreams()).not.toContain(await host());
    controller.scheduler.setReady(victim!.name, () => true);
    await expect.poll(upstreams).toContain(await host());
    const events = (await recentEvents(controller.deps.db, app.uuid, 5)).map((e) => e.line);
    expect(events.some((line) => line.includes(`${victim!.name} crashed with exit code 1; restarted in place (restart 1)`))).toBe(true);
  });

  it('shows an exited container as crashed, with its restart count, while it waits for its restart', async () => {
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000, reactAfterMs: 300, health: false });
    await reconciler.reconcileNow();
    const [web] = (await running()).filter((c) => c.labels['io.deis.type'] === 'web');
    controller.scheduler.crash(web!.name);
    expect((await listPods(controller.deps, 'demo')).find((p) => p.name === web!.name)).toMatchObject({ state: 'crashed', restarts: 0 });
    // Nothing replaces it meanwhile.
    await reconciler.reconcileNow();
    expect(await countByType()).toEqual({ web: 1, worker: 1 });
    await expect.poll(async () => (await listPods(controller.deps, 'demo')).find((p) => p.name === web!.name)).toMatchObject({ state: 'up', restarts: 1 });
  });

  it('takes no exit of a container the platform stopped itself for a crash', async () => {
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000, reactAfterMs: 10 });
    await reconciler.reconcileNow();
    const [web] = (await running()).filter((c) => c.labels['io.deis.type'] === 'web');
    noteStopping(controller.deps, [web!.name]);
    const generation = controller.deps.routing.generation;
    controller.scheduler.crash(web!.name, 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(controller.deps.routing.generation).toBe(generation);
    expect((await controller.scheduler.list({ 'io.deis.app': 'demo' })).map((c) => c.name)).toContain(web!.name);
  });

  it('backs off, exponentially and capped, from a container that keeps crashing', async () => {
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 1 }) }).where('uuid', '=', app.uuid).execute();
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000, reactAfterMs: 40, maxRestartDelayMs: 40 * 16 });
    await reconciler.reconcileNow();
    const crashAndTime = async () => {
      const [web] = await running();
      const started = Date.now();
      controller.scheduler.crash(web!.name);
      await expect.poll(async () => (await running()).length, { timeout: 5000, interval: 5 }).toBe(1);
      return Date.now() - started;
    };
    const first = await crashAndTime();
    for (let i = 0; i < 3; i++) await crashAndTime();
    const fifth = await crashAndTime();
    const sixth = await crashAndTime();
    // Quick at first, well before the backed-off delay (a busy CI machine adds its own latency to both).
    expect(first).toBeLessThan(40 * 16);
    expect(fifth).toBeGreaterThanOrEqual(40 * 16);
    // Capped: the sixth waits as long as the fifth, not twice as long.
    expect(sixth).toBeLessThan(40 * 32);
    expect((await listPods(controller.deps, 'demo'))[0]).toMatchObject({ restarts: 6 });
  });

  it('removes extra containers and those of older releases', async () => {
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000 });
    await reconciler.reconcileNow();
    await controller.scheduler.start({ name: 'demo-web-1-stale', image: 'old', env: {}, labels: { 'io.deis.platform': 'test', 'io.deis.app': 'demo', 'io.deis.type': 'web', 'io.deis.release': 'v1' } });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 1, worker: 0 }) }).where('uuid', '=', app.uuid).execute();
    await reconciler.reconcileNow();
    expect(await countByType()).toEqual({ web: 1 });
    expect((await running()).map((c) => c.name)).not.toContain('demo-web-1-stale');
  });

  it('leaves a release that its own deploy is about to roll out alone', async () => {
    await seedRelease(controller, app, { image: 'example/app:2', procfile: { web: 'serve' } });
    reconciler = startReconciler(controller.deps, { intervalMs: 60_000 });
    await reconciler.reconcileNow();
    expect(new Set((await running()).map((c) => c.labels['io.deis.release']))).toEqual(new Set(['v2']));
  });

  it('keeps trying, backing off, and reports an app it could not converge', async () => {
    const errors: string[] = [];
    // Each pass starts two containers (one web, one worker): three passes fail.
    controller.scheduler.failNext('start', 6);
    const started = Date.now();
    reconciler = startReconciler(controller.deps, { intervalMs: 20, onError: (appId) => errors.push(appId) });
    await expect.poll(async () => countByType()).toEqual({ web: 2, worker: 1 });
    expect(errors).toEqual(['demo', 'demo', 'demo']);
    // Retries after 0, 1 and 3 intervals: the third failure waits before the fourth try.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 20);
  });
});
