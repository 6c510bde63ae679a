import { afterEach, describe, expect, it, vi } from 'vitest';
import { appLocksOf } from '../db/app-locks.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { failInterruptedDeploys, INTERRUPTED } from './deploy-recovery.ts';
import { formationState, whenAppIdle } from './formation-state.ts';
import { reconcileApp } from './reconciler.ts';

describe('deploys a crash interrupted', () => {
  let controller: TestController;
  afterEach(async () => controller.close());

  const releases = () => controller.deps.db.selectFrom('releases').select(['version', 'failed', 'deploying', 'exception']).orderBy('version').execute();
  const push = (token: string, image: string) => controller.call('POST', '/v2/apps/demo/builds/', { token, body: { image, procfile: { web: 'serve' } } });

  it('are marked failed at start, so the reconciler brings back the release that served instead of adopting it', async () => {
    controller = await startTestController();
    const alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    expect((await push(alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    // A finished deploy is not marked: a restart leaves it alone.
    expect(await failInterruptedDeploys(controller.deps.db)).toBe(0);
    expect((await releases()).map((r) => [r.version, r.failed, r.deploying])).toEqual([[1, 0, 0], [2, 0, 0]]);

    // The next deploy hangs in its new container's readiness wait, as when the process dies there.
    const waitReady = controller.scheduler.waitReady.bind(controller.scheduler);
    const isNew = (name: string) => controller.scheduler.specs().find((s) => s.name === name)?.image === 'example/app:2';
    vi.spyOn(controller.scheduler, 'waitReady').mockImplementation((name, check, timeout) => (isNew(name) ? new Promise<void>(() => undefined) : waitReady(name, check, timeout)));
    void push(alice, 'example/app:2');
    await expect.poll(async () => (await releases()).at(-1)).toMatchObject({ version: 3, deploying: 1, failed: 0 });
    await expect.poll(() => controller.scheduler.specs().some((s) => s.image === 'example/app:2')).toBe(true);

    // The restart: the store says v3 is deploying, the engine has its half-started container.
    expect(await failInterruptedDeploys(controller.deps.db)).toBe(1);
    expect((await releases()).at(-1)).toEqual({ version: 3, failed: 1, deploying: 0, exception: INTERRUPTED });
    vi.mocked(controller.scheduler.waitReady).mockRestore();
    // A new process holds no app locks (the hung deploy's lock went with the old one); its reconciler converges.
    formationState(controller.deps).locks.clear();
    appLocksOf(controller.deps.db).abandon();
    const app = await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'demo').executeTakeFirstOrThrow();
    await reconcileApp(controller.deps, app.uuid);
    const serving = (await controller.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up').map((c) => c.labels['io.deis.release']);
    expect(serving).toEqual(['v2']);
  });
});
