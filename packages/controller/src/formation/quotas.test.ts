import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '@deis/scheduler/scheduler';
import { DEFAULT_LIMITS } from '../settings.ts';
import type { TenantLimits } from '../settings.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { whenAppIdle } from './formation-state.ts';

describe('tenant limits on containers, runs and config', () => {
  let controller: TestController;
  let alice: string;
  afterEach(async () => controller.close());

  const start = async (limits: Partial<TenantLimits> = {}) => {
    controller = await startTestController({ limits: { ...DEFAULT_LIMITS, ...limits } });
    alice = await controller.user('alice');
    for (const id of ['demo', 'other']) {
      expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id } })).status).toBe(201);
      const build = await controller.call('POST', `/v2/apps/${id}/builds/`, { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } } });
      expect(build.status, build.body).toBe(201);
      await whenAppIdle(controller.deps, id);
    }
  };
  const scale = (body: unknown, app = 'demo') => controller.call('POST', `/v2/apps/${app}/scale/`, { token: alice, body });
  const structure = async (app = 'demo') => ((await controller.call('GET', `/v2/apps/${app}/`, { token: alice })).json as { structure: Record<string, number> }).structure;

  it('refuses a scale over the per-type limit before starting anything, naming the limit', async () => {
    await start();
    const before = controller.scheduler.specs().length;
    for (const count of [3000, 100_000_000]) {
      const response = await scale({ web: count });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ detail: `Cannot scale web to ${count}: the limit is 100 containers per process type (DEIS_LIMIT_SCALE_PER_TYPE)` });
    }
    expect(controller.scheduler.specs()).toHaveLength(before);
    expect(await structure()).toEqual({ web: 1 });
    expect((await scale({ web: 100 })).status).toBe(204);
  });

  it('refuses more containers per app than the limit, summed over types, but lets an app over it scale down', async () => {
    await start({ containersPerApp: 5 });
    expect((await scale({ web: 3, worker: 2 })).status).toBe(204);
    const response = await scale({ worker: 3 });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ detail: 'Cannot scale demo to 6 containers: the limit is 5 containers per app (DEIS_LIMIT_CONTAINERS_PER_APP)' });
    expect(await structure()).toEqual({ web: 3, worker: 2 });
    // Lowered below what the app runs: shrinking still works.
    controller.deps.settings = { ...controller.deps.settings, limits: { ...controller.deps.settings.limits, containersPerApp: 2 } };
    expect((await scale({ worker: 1 })).status).toBe(204);
    expect((await scale({ worker: 2 })).status).toBe(400);
  });

  it("counts every app of the owner against the per-user limit, whoever scales", async () => {
    await start({ containersPerUser: 5 });
    const bob = await controller.user('bob');
    expect((await controller.call('POST', '/v2/apps/other/perms/', { token: alice, body: { username: 'bob' } })).status).toBe(201);
    expect((await scale({ web: 3 })).status).toBe(204);
    const response = await controller.call('POST', '/v2/apps/other/scale/', { token: bob, body: { web: 3 } });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ detail: "Cannot scale other to 3 containers: its owner's apps would run 6, over the limit of 5 containers per user (DEIS_LIMIT_CONTAINERS_PER_USER)" });
    expect((await scale({ web: 2 }, 'other')).status).toBe(204);
  });

  it('refuses more one-off runs at once than the per-app and per-user limits with 429, and frees the slot when one ends', async () => {
    await start({ runsPerApp: 1, runsPerUser: 2 });
    const finish: Array<(result: RunResult) => void> = [];
    controller.scheduler.runHandler = () => new Promise<RunResult>((resolve) => finish.push(resolve));
    const run = (app: string) => controller.call('POST', `/v2/apps/${app}/run`, { token: alice, body: { command: 'sleep 100' } });
    const first = run('demo');
    await expect.poll(() => finish.length).toBe(1);
    let refused = await run('demo');
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({ detail: 'demo already has 1 one-off commands running, the limit per app (DEIS_LIMIT_RUNS_PER_APP); try again when one has finished' });
    const second = run('other');
    await expect.poll(() => finish.length).toBe(2);
    controller.deps.settings = { ...controller.deps.settings, limits: { ...controller.deps.settings.limits, runsPerApp: 5 } };
    refused = await run('demo');
    expect(refused.status).toBe(429);
    expect((refused.json as { detail: string }).detail).toContain('alice already has 2 one-off commands running, the limit per user (DEIS_LIMIT_RUNS_PER_USER)');
    finish[0]!({ exitCode: 0, output: 'done\n' });
    expect((await first).json).toEqual({ exit_code: 0, output: 'done\n' });
    const third = run('demo');
    await expect.poll(() => finish.length).toBe(3);
    finish[1]!({ exitCode: 0, output: '' });
    finish[2]!({ exitCode: 0, output: '' });
    expect((await second).status).toBe(200);
    expect((await third).status).toBe(200);
  });

  it("keeps only the tail of a run's output, saying how much it dropped", async () => {
    await start({ runOutputBytes: 1024 });
    controller.scheduler.runHandler = () => ({ exitCode: 0, output: 'y\n'.repeat(1_000_000) });
    const response = await controller.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'yes' } });
    expect(response.status).toBe(200);
    const { output } = response.json as { output: string };
    expect(output).toBe(`[… ${2_000_000 - 1024} bytes of earlier output dropped …]\n${'y\n'.repeat(512)}`);
  });

  it('refuses a config over the value count or size limit, but always lets values be unset', async () => {
    await start({ configValues: 3, configBytes: 2048 });
    const config = (values: Record<string, string | null>) => controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { values } });
    expect((await config({ A: '1', B: '2', C: '3' })).status).toBe(201);
    let response = await config({ D: '4' });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ values: ['The config would hold 4 values; the limit is 3 (DEIS_LIMIT_CONFIG_VALUES)'] });
    response = await config({ A: 'x'.repeat(2048) });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ values: ["The config's names and values would take 2053 bytes; the limit is 2048 (DEIS_LIMIT_CONFIG_BYTES)"] });
    controller.deps.settings = { ...controller.deps.settings, limits: { ...controller.deps.settings.limits, configValues: 1 } };
    expect((await config({ A: null })).status).toBe(201);
    const values = ((await controller.call('GET', '/v2/apps/demo/config/', { token: alice })).json as { values: Record<string, string> }).values;
    expect(values).toEqual({ B: '2', C: '3' });
  });
});
