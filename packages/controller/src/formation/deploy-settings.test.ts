import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { deploySeeded, seedApp } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';

/** The deploy settings of the controller (settings.ts) and the per-app overrides of them in config values (§1.4). */
describe('deploy settings', () => {
  let controller: TestController;
  let app: SeededApp;
  const start = async (settings: Parameters<typeof startTestController>[0]) => {
    controller = await startTestController(settings);
    await controller.user('alice');
    app = await seedApp(controller, 'demo', 'alice');
  };
  afterEach(async () => controller?.close());

  const structure = async () => JSON.parse((await controller.deps.db.selectFrom('apps').select('structure').where('uuid', '=', app.uuid).executeTakeFirstOrThrow()).structure) as Record<string, number>;
  const setStructure = (value: Record<string, number>) => controller.deps.db.updateTable('apps').set({ structure: JSON.stringify(value) }).where('uuid', '=', app.uuid).execute();

  it('keeps the count of a type a new Procfile drops when DEIS_DEPLOY_PROCFILE_MISSING_REMOVE is false', async () => {
    await start({ procfileMissingRemove: false });
    await deploySeeded(controller, app, { image: 'example/app:1', sha: 'abc', procfile: { web: 'a', worker: 'b' } });
    await setStructure({ web: 1, worker: 2 });
    await deploySeeded(controller, app, { image: 'example/app:2', sha: 'abd', procfile: { web: 'a' } });
    expect(await structure()).toEqual({ web: 1, worker: 2 });
  });

  it('scales a type a new Procfile drops to 0 when DEIS_DEPLOY_PROCFILE_MISSING_REMOVE is true', async () => {
    await start({ procfileMissingRemove: true });
    await deploySeeded(controller, app, { image: 'example/app:1', sha: 'abc', procfile: { web: 'a', worker: 'b' } });
    await setStructure({ web: 1, worker: 2 });
    await deploySeeded(controller, app, { image: 'example/app:2', sha: 'abd', procfile: { web: 'a' } });
    expect(await structure()).toEqual({ web: 1, worker: 0 });
  });

  describe('DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING', () => {
    const pull = (body: Record<string, unknown>, token: string) => controller.call('POST', '/v2/apps/myapp/builds/', { token, body });
    const startWithApp = async (rejectIfProcfileMissing: boolean) => {
      await start({ rejectIfProcfileMissing });
      const token = await controller.user('bob');
      await controller.call('POST', '/v2/apps/', { token, body: { id: 'myapp' } });
      controller.scheduler.defineImage('example/web:1', [5000]);
      expect((await pull({ image: 'example/web:1', procfile: { web: 'serve', worker: 'work' } }, token)).status).toBe(201);
      return token;
    };

    it('refuses a build without a Procfile after one with, even of a type scaled to 0, and stores nothing', async () => {
      const token = await startWithApp(true);
      expect((await controller.call('POST', '/v2/apps/myapp/scale/', { token, body: { worker: 0 } })).status).toBe(204);
      const refused = await pull({ image: 'example/web:1' }, token);
      expect(refused.status).toBe(409);
      expect((refused.json as { detail: string }).detail).toBe('Build rejected: the Procfile no longer declares web, worker, which the current build runs.');
      expect((await controller.call('GET', '/v2/apps/myapp/builds/', { token })).json).toMatchObject({ count: 1 });
    });

    it('is off by default: a build without a Procfile is deployed', async () => {
      const token = await startWithApp(false);
      expect((await pull({ image: 'example/web:1' }, token)).status).toBe(201);
    });
  });

  it('waits DEIS_DEPLOY_TIMEOUT for readiness: the setting, or the app config value in seconds when it is a positive whole number', async () => {
    await start({ deployTimeoutMs: 45_000 });
    const waitReady = vi.spyOn(controller.scheduler, 'waitReady');
    const timeoutOfDeploy = async (values: Record<string, string>) => {
      waitReady.mockClear();
      await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'a' } }, { values });
      return waitReady.mock.calls.map((call) => call[2]);
    };
    expect(await timeoutOfDeploy({})).toEqual([45_000]);
    expect(await timeoutOfDeploy({ DEIS_DEPLOY_TIMEOUT: '7' })).toEqual([7_000]);
    for (const ignored of ['0', 'soon', '1.5', '-3']) expect(await timeoutOfDeploy({ DEIS_DEPLOY_TIMEOUT: ignored })).toEqual([45_000]);
  });

  it('stops replaced containers with KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: the setting, or the app config value', async () => {
    await start({ gracePeriodSeconds: 12 });
    const stop = vi.spyOn(controller.scheduler, 'stop');
    const graceOfDeploy = async (values: Record<string, string>) => {
      stop.mockClear();
      await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'a' } }, { values });
      return stop.mock.calls.map((call) => call[1]);
    };
    await graceOfDeploy({});
    expect(await graceOfDeploy({})).toEqual([12]);
    expect(await graceOfDeploy({ KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '3' })).toEqual([3]);
    expect(await graceOfDeploy({ KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '0' })).toEqual([0]);
    for (const ignored of ['later', '2.5', '-1']) expect(await graceOfDeploy({ KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: ignored })).toEqual([12]);
  });
});
