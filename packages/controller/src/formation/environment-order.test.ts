import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '@deis/scheduler/scheduler';
import { recordRuns, startWithAlicesCreatedApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

/** Issue 9, item 1: variables reach containers in the order they were set (app containers and one-off runs alike). */
describe('the order of environment variables', () => {
  let controller: TestController;
  let token: string;
  let runs: ContainerSpec[];
  const PLATFORM = ['DEIS_APP', 'WORKFLOW_RELEASE', 'WORKFLOW_RELEASE_SUMMARY', 'WORKFLOW_RELEASE_CREATED_AT', 'PORT'];

  beforeEach(async () => {
    ({ controller, alice: token } = await startWithAlicesCreatedApp('envy'));
    runs = recordRuns(controller);
    expect((await controller.call('POST', '/v2/apps/envy/builds/', { token, body: { image: 'example/envy:1' } })).status).toBe(201);
  });
  afterEach(async () => controller.close());

  const setValues = async (values: Record<string, string | null>) => {
    const response = await controller.call('POST', '/v2/apps/envy/config/', { token, body: { values } });
    expect(response.status, response.body).toBe(201);
  };
  /** The env of the app's newest container and of a one-off run, as the engine is given them. */
  const environments = async (): Promise<{ app: string[]; run: string[] }> => {
    const specs = controller.scheduler.specs();
    const app = specs[specs.length - 1]!;
    expect((await controller.call('POST', '/v2/apps/envy/run', { token, body: { command: 'env' } })).status).toBe(200);
    return { app: Object.keys(app.env), run: Object.keys(runs[runs.length - 1]!.env) };
  };

  it('keeps the order of one set, appends later sets, keeps a changed key in place, and puts platform variables first', async () => {
    await setValues({ FOO: 'null', BAR: 'nil' });
    expect(await environments()).toEqual({ app: [...PLATFORM, 'FOO', 'BAR'], run: [...PLATFORM, 'FOO', 'BAR'] });

    await setValues({ AAA: '1', ZED: '2' });
    await setValues({ FOO: 'changed' });
    await setValues({ BAR: null });
    await setValues({ BAR: 'back', MID: 'x' });
    const expected = [...PLATFORM, 'FOO', 'AAA', 'ZED', 'BAR', 'MID'];
    expect(await environments()).toEqual({ app: expected, run: expected });
    const config = (await controller.call('GET', '/v2/apps/envy/config/', { token })).json as { values: Record<string, string> };
    expect(Object.keys(config.values)).toEqual(['FOO', 'AAA', 'ZED', 'BAR', 'MID']);
  });

  it('keeps a platform variable the config overrides in the platform block', async () => {
    await setValues({ ZZZ: '1', PORT: '6000', AAA: '2' });
    const { app } = await environments();
    expect(app).toEqual([...PLATFORM, 'ZZZ', 'AAA']);
    expect(controller.scheduler.specs().at(-1)!.env.PORT).toBe('6000');
  });
});
