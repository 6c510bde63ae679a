import type { Config, Release } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentEvents } from '../events/event-log.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('config (contract §1.2, §1.4)', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController({ nodeLabels: { environ: 'prod' } });
    alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
  });
  afterEach(async () => controller.close());

  const setConfig = (body: unknown, token = alice) => controller.call('POST', '/v2/apps/myapp/config/', { token, body });
  const releases = async () => ((await controller.call('GET', '/v2/apps/myapp/releases/', { token: alice })).json as { results: Release[] }).results;

  it('starts empty, with every field of the Config shape', async () => {
    const response = await controller.call('GET', '/v2/apps/myapp/config/', { token: alice });
    expect(response.status).toBe(200);
    const config = response.json as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(['app', 'cpu', 'created', 'healthcheck', 'memory', 'owner', 'registry', 'tags', 'updated', 'uuid', 'values']);
    expect(config).toMatchObject({ app: 'myapp', owner: 'alice', values: {}, memory: {}, cpu: {}, tags: {}, registry: {}, healthcheck: {} });
  });

  it('merges values into a new config and release, with the summary of what changed', async () => {
    const first = await setConfig({ values: { FOO: 'bar', N: 10 } });
    expect(first.status).toBe(201);
    expect((first.json as Config).values).toEqual({ FOO: 'bar', N: '10' });
    const second = await setConfig({ values: { FOO: 'baz', NEW: '1', N: null } });
    expect((second.json as Config).values).toEqual({ FOO: 'baz', NEW: '1' });
    expect((await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json).toMatchObject({ uuid: (second.json as Config).uuid, values: { FOO: 'baz', NEW: '1' } });

    const list = await releases();
    expect(list.map((r) => [r.version, r.summary])).toEqual([
      [3, 'alice added NEW, changed FOO, deleted N'],
      [2, 'alice added FOO, N'],
      [1, 'alice created initial release'],
    ]);
    expect(list[0]!.config).toBe((second.json as Config).uuid);
    expect(list[0]!.build).toBeNull();
  });

  it('logs the config change and the release summary to the app’s events', async () => {
    const config = (await setConfig({ values: { FOO: 'secret-value' } })).json as Config;
    const app = await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
    const lines = (await recentEvents(controller.deps.db, app.uuid, 10)).map((e) => e.line.replace(/^\S+ /, ''));
    expect(lines.slice(-2)).toEqual([`deis[controller]: INFO config myapp-${config.uuid.slice(0, 7)} updated`, 'deis[controller]: INFO alice added FOO']);
  });

  it('accepts the JSON fields as JSON text, as form posts send them', async () => {
    const response = await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: 'values=%7B%22FOO%22%3A%22bar%22%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(201);
    expect((response.json as Config).values).toEqual({ FOO: 'bar' });
  });

  it('answers 409 and makes no release when nothing changes', async () => {
    await setConfig({ values: { FOO: 'bar' } });
    const response = await setConfig({ values: { FOO: 'bar' } });
    expect(response.status).toBe(409);
    expect(response.json).toEqual({ detail: 'alice changed nothing - release stopped' });
    expect((await releases()).map((r) => r.version)).toEqual([2, 1]);
    expect(await controller.deps.db.selectFrom('configs').select('uuid').execute()).toHaveLength(2);
  });

  it('answers 422 when unsetting something not set', async () => {
    const response = await setConfig({ values: { NOPE: null } });
    expect(response.status).toBe(422);
    expect(response.json).toEqual({ detail: 'NOPE does not exist under values' });
  });

  it('answers 400 with the field for invalid input', async () => {
    const response = await setConfig({ values: { PORT: 'http' } });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ values: ['PORT can only be a numeric value'] });
    const registry = await setConfig({ registry: { username: 'bob' } });
    expect(registry.json).toEqual({ detail: 'PORT needs to be set in the config when using a private registry' });
    const tags = await setConfig({ tags: { environ: 'dev' } });
    expect(tags.status).toBe(400);
    expect(tags.json).toEqual({ detail: 'No nodes matched the provided labels: environ=dev' });
  });

  it('summarizes limits, tags, registry and healthcheck changes', async () => {
    await setConfig({ memory: { web: '64M' }, cpu: { web: '500m' } });
    await setConfig({ tags: { environ: 'prod' } });
    await setConfig({ values: { PORT: '5000' }, registry: { username: 'bob' } });
    await setConfig({ healthcheck: { 'web/cmd': { livenessProbe: { tcpSocket: { port: 5000 } } } } });
    await setConfig({ values: { HEALTHCHECK_URL: '/healthz' } });
    expect((await releases()).slice(0, 5).map((r) => r.summary)).toEqual([
      'alice changed healthcheck info for proc type web/cmd',
      'alice added healthcheck info for proc type web/cmd',
      'alice added PORT and alice added registry info username',
      'alice added tag environ',
      'alice changed limits for memory, cpu',
    ]);
    const config = (await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json as Config;
    expect(config.values).toEqual({ PORT: '5000' });
    expect(config.healthcheck['web/cmd']).toMatchObject({ livenessProbe: { httpGet: { path: '/healthz', port: 5000 } }, readinessProbe: { httpGet: { path: '/healthz' } } });
  });

  it('lets collaborators and admins change config, with themselves as owner; not strangers', async () => {
    const bob = await controller.user('bob');
    expect((await setConfig({ values: { A: '1' } }, bob)).status).toBe(403);
    const admin = await controller.user('root', { admin: true });
    const response = await setConfig({ values: { A: '1' } }, admin);
    expect(response.status).toBe(201);
    expect((response.json as Config).owner).toBe('root');
    expect((await controller.call('GET', '/v2/apps/nothing/config/', { token: alice })).status).toBe(404);
  });

  it('deploys the new release once the app has a build, and keeps the old config when the deploy fails', async () => {
    controller.scheduler.defineImage('example/web:1', [5000]);
    expect((await controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image: 'example/web:1' } })).status).toBe(201);
    const response = await setConfig({ values: { GREETING: 'hi' } });
    expect(response.status).toBe(201);
    const envs = controller.scheduler.specs().filter((s) => s.env.WORKFLOW_RELEASE === 'v3');
    expect(envs.length).toBeGreaterThan(0);
    expect(envs[0]!.env.GREETING).toBe('hi');

    controller.scheduler.failNext('waitReady', 5);
    const failed = await setConfig({ values: { GREETING: 'hello' } });
    expect(failed.status).toBeGreaterThanOrEqual(400);
    const [latest] = await releases();
    expect(latest).toMatchObject({ version: 4, failed: true, summary: 'alice deployed a config that failed' });
    expect(((await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json as Config).values).toEqual({ GREETING: 'hi' });
  });
});
