import type { Build, Release } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentEvents } from '../events/event-log.ts';
import { startWithAlicesCreatedApp } from '../testing/test-apps.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('builds (contract §1.2, §1.4)', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    ({ controller, alice } = await startWithAlicesCreatedApp());
    controller.scheduler.defineImage('example/web:1', [5000]);
    controller.scheduler.defineImage('example/web:2', [5000]);
  });
  afterEach(async () => controller.close());

  const pull = (body: unknown, token = alice) => controller.call('POST', '/v2/apps/myapp/builds/', { token, body });
  const releases = async () => ((await controller.call('GET', '/v2/apps/myapp/releases/', { token: alice })).json as { results: Release[] }).results;

  it('refuses an image reference the engine would read as an image ID', async () => {
    for (const image of ['3c', 'sha256:3c4f45', 'cafe']) {
      const response = await pull({ image });
      expect(response.status).toBe(400);
      expect((response.json as { image: string[] }).image[0]).toMatch(/reads as an image ID/);
    }
    expect(await releases()).toHaveLength(1);
  });

  it("deploys another app's builder image only for a user who may use that app", async () => {
    const bob = await controller.user('bob');
    await controller.call('POST', '/v2/apps/', { token: bob, body: { id: 'bobs' } });
    controller.scheduler.defineImage('bobs:git-0a1b2c3d', [5000]);
    const refused = await pull({ image: 'bobs:git-0a1b2c3d' });
    expect(refused.status).toBe(403);
    // The engine reads Docker Hub's longer forms of a name as the local image.
    for (const image of ['docker.io/library/bobs:git-0a1b2c3d', 'library/bobs:git-0a1b2c3d', 'index.docker.io/library/bobs:git-0a1b2c3d', 'docker.io/bobs:git-0a1b2c3d']) {
      controller.scheduler.defineImage(image, [5000]);
      expect((await pull({ image })).status, image).toBe(403);
    }
    expect(await releases()).toHaveLength(1);

    await controller.call('POST', '/v2/apps/bobs/perms/', { token: bob, body: { username: 'alice' } });
    expect((await pull({ image: 'bobs:git-0a1b2c3d' })).status).toBe(201);
  });

  it('pulls images with a registry port and a tag, and the app’s own builds', async () => {
    controller.scheduler.defineImage('registry.local:5000/team/web:git-0a1b2c3d', [5000]);
    controller.scheduler.defineImage('myapp:git-0a1b2c3d', [5000]);
    expect((await pull({ image: 'registry.local:5000/team/web:git-0a1b2c3d' })).status).toBe(201);
    expect((await pull({ image: 'myapp:git-0a1b2c3d' })).status).toBe(201);
  });

  it('starts with no builds', async () => {
    const response = await controller.call('GET', '/v2/apps/myapp/builds/', { token: alice });
    expect(response.json).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  it('creates a build from an image, releases v2 and deploys it', async () => {
    const response = await pull({ image: 'example/web:1', procfile: { web: 'node server.js' } });
    expect(response.status).toBe(201);
    const build = response.json as Build;
    expect(Object.keys(build).sort()).toEqual(['app', 'created', 'dockerfile', 'image', 'owner', 'procfile', 'sha', 'updated', 'uuid']);
    expect(build).toMatchObject({ app: 'myapp', owner: 'alice', image: 'example/web:1', sha: '', procfile: { web: 'node server.js' }, dockerfile: '' });

    const [latest] = await releases();
    expect(latest).toMatchObject({ version: 2, summary: 'alice deployed example/web:1', failed: false, build: build.uuid });
    const app = await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
    const lines = (await recentEvents(controller.deps.db, app.uuid, 10)).map((e) => e.line);
    expect(lines.some((l) => l.endsWith(`INFO build myapp-${build.uuid.slice(0, 7)} created`))).toBe(true);
    expect(lines.some((l) => l.endsWith('INFO alice deployed example/web:1'))).toBe(true);
    const specs = controller.scheduler.specs().filter((s) => s.env.WORKFLOW_RELEASE === 'v2');
    expect(specs.length).toBe(1);
    expect(specs[0]!.name).toMatch(/^myapp-web-/);
  });

  it('names the short sha in the summary of a git build, and lists builds newest first', async () => {
    await pull({ image: 'example/web:1', sha: 'abcdef1234567' });
    await pull({ image: 'example/web:2', sha: '1234567abcdef' });
    const list = (await controller.call('GET', '/v2/apps/myapp/builds/', { token: alice })).json as { count: number; results: Build[] };
    expect(list.count).toBe(2);
    expect(list.results.map((b) => b.image)).toEqual(['example/web:2', 'example/web:1']);
    expect((await releases()).map((r) => r.summary).slice(0, 2)).toEqual(['alice deployed 1234567', 'alice deployed abcdef1']);
    // Deis's quirk: any uuid shows the serving release's build.
    const one = await controller.call('GET', `/v2/apps/myapp/builds/${list.results[1]!.uuid}/`, { token: alice });
    expect((one.json as Build).image).toBe('example/web:2');
  });

  it('validates the image and the procfile', async () => {
    const blank = await pull({ image: '' });
    expect(blank.status).toBe(400);
    expect(blank.json).toEqual({ image: ['This field may not be blank.'] });
    expect((await pull({})).json).toEqual({ image: ['This field is required.'] });
    expect((await pull({ image: 'example/web:1', procfile: { web: '' } })).json).toEqual({ procfile: ["Command can't be empty for process type"] });
    expect((await pull({ image: 'example/web:1', procfile: { Web_1: 'x' } })).json).toEqual({ procfile: ['Process types can only contain lowercase alphanumeric characters'] });
    expect(await releases()).toHaveLength(1);
  });

  it('marks the release failed and answers with the reason when the deploy fails', async () => {
    controller.scheduler.crashImage('example/broken:1');
    const response = await pull({ image: 'example/broken:1' });
    expect(response.status).toBe(400);
    expect(typeof (response.json as { detail: string }).detail).toBe('string');
    const [latest] = await releases();
    expect(latest!.failed).toBe(true);
    expect(latest!.summary).toMatch(/^alice deployed [0-9a-f-]{7} which failed$/);
  });

  it('refuses a Procfile that drops a type when DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING is on', async () => {
    await controller.close();
    controller = await startTestController({ rejectIfProcfileMissing: true });
    alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    controller.scheduler.defineImage('example/web:1', [5000]);
    expect((await pull({ image: 'example/web:1', procfile: { web: 'serve', worker: 'work' } })).status).toBe(201);
    const response = await pull({ image: 'example/web:1', procfile: { web: 'serve' } });
    expect(response.status).toBe(409);
    expect((response.json as { detail: string }).detail).toContain('worker');
    expect((await controller.call('GET', '/v2/apps/myapp/builds/', { token: alice })).json).toMatchObject({ count: 1 });
  });

  it('lets an admin build on another user’s app, not a stranger', async () => {
    const bob = await controller.user('bob');
    expect((await pull({ image: 'example/web:1' }, bob)).status).toBe(403);
    const admin = await controller.user('root', { admin: true });
    const response = await pull({ image: 'example/web:1' }, admin);
    expect(response.status).toBe(201);
    expect((response.json as Build).owner).toBe('root');
  });
});
