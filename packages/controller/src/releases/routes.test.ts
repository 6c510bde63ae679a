import type { Release } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWithAlicesCreatedApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('releases and rollback (contract §1.2, §1.4)', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    ({ controller, alice } = await startWithAlicesCreatedApp());
    controller.scheduler.defineImage('example/web:1', [5000]);
    controller.scheduler.defineImage('example/web:2', [5000]);
  });
  afterEach(async () => controller.close());

  const releases = async () => ((await controller.call('GET', '/v2/apps/myapp/releases/', { token: alice })).json as { count: number; results: Release[] });
  const rollback = (body?: unknown) =>
    controller.call('POST', '/v2/apps/myapp/releases/rollback/', body === undefined ? { token: alice, body: '', headers: { 'content-type': 'application/json' } } : { token: alice, body });

  it('shows release v1 with every field of the Release shape', async () => {
    const response = await controller.call('GET', '/v2/apps/myapp/releases/v1/', { token: alice });
    expect(response.status).toBe(200);
    const release = response.json as Record<string, unknown>;
    expect(Object.keys(release).sort()).toEqual(['app', 'build', 'config', 'created', 'failed', 'owner', 'summary', 'updated', 'uuid', 'version']);
    expect(release).toMatchObject({ app: 'myapp', owner: 'alice', version: 1, summary: 'alice created initial release', failed: false, build: null });
    expect((await controller.call('GET', '/v2/apps/myapp/releases/v9/', { token: alice })).json).toBe('No Release matches the given query.');
    expect((await controller.call('GET', '/v2/apps/myapp/releases/vx/', { token: alice })).status).toBe(404);
  });

  it('lists releases newest first and pages them', async () => {
    for (const n of [1, 2, 3]) await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { N: String(n) } } });
    const all = await releases();
    expect(all.count).toBe(4);
    expect(all.results.map((r) => r.version)).toEqual([4, 3, 2, 1]);
    const page = (await controller.call('GET', '/v2/apps/myapp/releases/?limit=1&offset=1', { token: alice })).json as { results: Release[]; next: string };
    expect(page.results.map((r) => r.version)).toEqual([3]);
    expect(page.next).toContain('offset=2');
  });

  it('rolls back to the previous release by default, copying its build and config, and deploys it', async () => {
    await controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image: 'example/web:1' } });
    await controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image: 'example/web:2' } });
    const response = await rollback();
    expect(response.status).toBe(201);
    expect(response.json).toEqual({ version: 4 });
    const [v4, v3, v2] = (await releases()).results;
    expect(v4).toMatchObject({ version: 4, summary: 'alice rolled back to v2', build: v2!.build, config: v2!.config, failed: false });
    expect(v3!.build).not.toBe(v2!.build);
    const running = controller.scheduler.specs().filter((s) => s.env.WORKFLOW_RELEASE === 'v4');
    expect(running.map((s) => s.image)).toEqual(['example/web:1']);
  });

  it('rolls back to an explicit version, also without a build', async () => {
    await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { A: '1' } } });
    await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { B: '2' } } });
    expect((await rollback({ version: 2 })).json).toEqual({ version: 4 });
    const config = (await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json as { values: Record<string, string> };
    expect(config.values).toEqual({ A: '1' });
  });

  it('refuses versions below 1, the initial release, unknown and failed releases', async () => {
    expect((await rollback()).json).toEqual({ detail: 'version cannot be below 0' });
    expect((await rollback({ version: 0 })).json).toEqual({ detail: 'version cannot be below 0' });
    expect((await rollback({ version: 1 })).json).toEqual({ detail: 'Cannot roll back to initial release.' });
    const unknown = await rollback({ version: 7 });
    expect(unknown.status).toBe(400);
    controller.scheduler.crashImage('example/broken:1');
    await controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image: 'example/broken:1' } });
    const failed = await rollback({ version: 2 });
    expect(failed.status).toBe(400);
    expect(failed.json).toEqual({ detail: 'Cannot roll back to failed release.' });
    expect((await releases()).count).toBe(2);
  });

  it('numbers concurrent releases without gaps or duplicates, each change building on the one before', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `K${i}`);
    const responses = await Promise.all(keys.map((key) => controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { [key]: '1' } } })));
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect((await releases()).results.map((r) => r.version)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));
    const config = (await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json as { values: Record<string, string> };
    expect(config.values).toEqual(Object.fromEntries(keys.map((key) => [key, '1'])));
  });

  it('keeps strangers out: 403', async () => {
    const bob = await controller.user('bob');
    expect((await controller.call('GET', '/v2/apps/myapp/releases/', { token: bob })).status).toBe(403);
    expect((await controller.call('POST', '/v2/apps/myapp/releases/rollback/', { token: bob, body: {} })).status).toBe(403);
  });
});
