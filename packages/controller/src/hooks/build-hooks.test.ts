import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController, TEST_BUILDER_KEY } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('builder hooks: build and config (contract §1.2, §6.1)', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    await controller.user('bob');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    controller.scheduler.defineImage('myapp:git-abcdef12', [5000]);
  });
  afterEach(async () => controller.close());

  const push = { receive_user: 'alice', receive_repo: 'myapp', image: 'myapp:git-abcdef12', sha: 'abcdef12', procfile: {}, dockerfile: 'true' };

  it('needs the builder key: 401 without credentials, 403 with a wrong key or a user token', async () => {
    expect((await controller.call('POST', '/v2/hooks/build/', { body: push })).status).toBe(401);
    expect((await controller.call('POST', '/v2/hooks/build/', { body: push, headers: { 'x-deis-builder-auth': 'wrong-key-wrong-key-0000' } })).status).toBe(403);
    expect((await controller.call('POST', '/v2/hooks/config/', { body: push, headers: { 'x-deis-builder-auth': `${TEST_BUILDER_KEY}x` } })).status).toBe(403);
  });

  it('turns a push into a build, release v2 and a deploy, answering the version', async () => {
    const response = await controller.call('POST', '/v2/hooks/build/', { builder: true, body: push });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ release: { version: 2 } });
    const builds = (await controller.call('GET', '/v2/apps/myapp/builds/', { token: alice })).json as { results: { sha: string; dockerfile: string; owner: string }[] };
    expect(builds.results[0]).toMatchObject({ sha: 'abcdef12', dockerfile: 'true', owner: 'alice' });
    const release = (await controller.call('GET', '/v2/apps/myapp/releases/v2/', { token: alice })).json as { summary: string };
    expect(release.summary).toBe('alice deployed abcdef1');
    // A Dockerfile build without a Procfile runs the image's CMD as the `cmd` type.
    expect(controller.scheduler.specs().map((s) => s.name)).toEqual([expect.stringMatching(/^myapp-cmd-\d{8,10}-[a-z0-9]{5}$/)]);
  });

  it('runs a buildpack push with a Procfile as web containers', async () => {
    const response = await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { ...push, dockerfile: '', procfile: { web: 'node server.js' } } });
    expect(response.json).toEqual({ release: { version: 2 } });
    expect(controller.scheduler.specs().map((s) => s.name)).toEqual([expect.stringMatching(/^myapp-web-\d{8,10}-[a-z0-9]{5}$/)]);
  });

  it('checks the app, the user and that the user may push', async () => {
    expect((await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { ...push, receive_repo: 'nothing' } })).json).toBe('No App matches the given query.');
    expect((await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { ...push, receive_user: 'nobody' } })).json).toBe('No User matches the given query.');
    expect((await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { ...push, receive_user: 'bob' } })).status).toBe(403);
    expect((await controller.call('POST', '/v2/hooks/config/', { builder: true, body: { receive_user: 'bob', receive_repo: 'myapp' } })).status).toBe(403);
  });

  it('answers a failed deploy with 400 and leaves the release marked failed', async () => {
    controller.scheduler.crashImage('myapp:git-abcdef12');
    const response = await controller.call('POST', '/v2/hooks/build/', { builder: true, body: push });
    expect(response.status).toBe(400);
    const release = (await controller.call('GET', '/v2/apps/myapp/releases/v2/', { token: alice })).json as { failed: boolean };
    expect(release.failed).toBe(true);
  });

  it('gives the builder the config of the serving release', async () => {
    await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { BUILDPACK_URL: 'https://example.test/bp.git' } } });
    const response = await controller.call('POST', '/v2/hooks/config/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp' } });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ app: 'myapp', values: { BUILDPACK_URL: 'https://example.test/bp.git' } });
  });
});
