import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../settings.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { startReconciler } from './reconciler.ts';
import type { Reconciler } from './reconciler.ts';
import { rolloutTimings } from './rollout.ts';
import { deploySeeded, seedApp } from './test-fixtures.ts';

/** One tenant's slow containers or huge timeouts must not hold up the platform's work for the others. */
describe('slow tenants', () => {
  let controller: TestController;
  let reconciler: Reconciler | null = null;
  afterEach(async () => {
    await reconciler?.stop();
    reconciler = null;
    await controller.close();
  });

  it("clamps an app's DEIS_DEPLOY_TIMEOUT and grace period to the limits, and keeps smaller ones", async () => {
    controller = await startTestController({ limits: { ...DEFAULT_LIMITS, appDeployTimeoutSeconds: 600, appGracePeriodSeconds: 120 } });
    const timings = (values: Record<string, string>) => rolloutTimings(controller.deps, { config: { values } as never });
    expect(timings({ DEIS_DEPLOY_TIMEOUT: '99999999', KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '99999999' })).toEqual({ timeoutMs: 600_000, graceSeconds: 120 });
    expect(timings({ DEIS_DEPLOY_TIMEOUT: '30', KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '5' })).toEqual({ timeoutMs: 30_000, graceSeconds: 5 });
  });

  it("keeps converging the other apps while one app's container takes long to stop", async () => {
    controller = await startTestController();
    await controller.user('alice');
    // Ordered first by id, so a pass that took apps one at a time would wait on it before the others.
    const slow = await seedApp(controller, 'a-slow', 'alice');
    const fine = await seedApp(controller, 'fine', 'alice');
    for (const app of [slow, fine]) await deploySeeded(controller, app, { image: `example/${app.id}:1`, procfile: { web: 'serve' } });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 0 }) }).where('uuid', '=', slow.uuid).execute();

    const stop = controller.scheduler.stop.bind(controller.scheduler);
    let releaseSlow!: () => void;
    const slowStopped = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    vi.spyOn(controller.scheduler, 'stop').mockImplementation(async (name, grace) => {
      if (name.startsWith('a-slow-')) await slowStopped;
      return stop(name, grace);
    });
    const upOf = async (appId: string) => (await controller.scheduler.list({ 'io.deis.app': appId })).filter((c) => c.state === 'up');

    reconciler = startReconciler(controller.deps, { intervalMs: 30, reactAfterMs: 10 });
    await expect.poll(() => vi.mocked(controller.scheduler.stop).mock.calls.some(([name]) => name.startsWith('a-slow-'))).toBe(true);
    // The slow stop is still waiting; a crash of the other app's container is restarted meanwhile.
    const [crashed] = await upOf('fine');
    controller.scheduler.crash(crashed!.name);
    await expect.poll(async () => (await controller.scheduler.list({ 'io.deis.app': 'fine' })).map((c) => c.state), { timeout: 5_000 }).toEqual(['crashed']);
    await expect.poll(async () => (await upOf('fine')).map((c) => c.name), { timeout: 5_000 }).toEqual([crashed!.name]);
    releaseSlow();
    await expect.poll(async () => (await controller.scheduler.list({ 'io.deis.app': 'a-slow' })).length).toBe(0);
  });
});
