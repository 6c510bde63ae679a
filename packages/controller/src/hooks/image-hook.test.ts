import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('the image hook: what a Dockerfile build may read from', () => {
  let controller: TestController;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    bob = await controller.user('bob');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'victim' } });
    await controller.call('POST', '/v2/apps/', { token: bob, body: { id: 'mallory' } });
    controller.scheduler.defineImage('victim:git-abcdef12', [5000]);
    const built = await controller.call('POST', '/v2/hooks/build/', {
      builder: true,
      body: { receive_user: 'alice', receive_repo: 'victim', image: 'victim:git-abcdef12', sha: 'abcdef12', procfile: {}, dockerfile: 'true' },
    });
    expect(built.status).toBe(200);
  });
  afterEach(async () => controller.close());

  const ask = (user: string, image: string, app = 'mallory') =>
    controller.call('POST', '/v2/hooks/image/', { builder: true, body: { receive_user: user, receive_repo: app, image } });

  it("refuses another app's builder image in every form that names it", async () => {
    for (const image of [
      'victim:git-abcdef12',
      'docker.io/library/victim:git-abcdef12',
      'localhost/victim:git-abcdef12',
      'localhost:5000/victim:git-abcdef12',
      'victim:git-abcdef12@sha256:0000000000000000000000000000000000000000000000000000000000000000',
      'victim@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    ]) {
      const response = await ask('bob', image);
      expect(response.status, image).toBe(403);
      expect(JSON.stringify(response.json), image).toMatch(/victim/);
    }
  });

  it('refuses image IDs and their prefixes, which could resolve to any image on the engine', async () => {
    for (const image of ['3f4e5d6c', 'sha256:3f4e5d6c7b8a', 'abcdef1234567890abcdef1234567890abcdef1234567890abcdef1234567890']) {
      const response = await ask('bob', image);
      expect(response.status, image).toBe(400);
      expect(JSON.stringify(response.json)).toMatch(/reads as an image ID/);
    }
  });

  it("refuses a builder tag of an app that does not exist or never built it (a destroyed app's leftovers)", async () => {
    expect((await ask('bob', 'ghost:git-12345678')).status).toBe(403);
    expect((await ask('alice', 'victim:git-99999999', 'victim')).status).toBe(403);
  });

  it('allows public and platform images, stage-like names, and the builds of apps the user may use', async () => {
    for (const image of ['alpine:3.19', 'docker.io/library/node:20', 'deis-stack-heroku-22:latest', 'victim:latest']) expect((await ask('bob', image)).status, image).toBe(200);
    expect((await ask('alice', 'victim:git-abcdef12', 'victim')).status).toBe(200);
    await controller.call('POST', '/v2/apps/victim/perms/', { token: alice, body: { username: 'bob' } });
    expect((await ask('bob', 'victim:git-abcdef12')).status).toBe(200);
  });

  it('needs the builder key and a user who may use the app', async () => {
    expect((await controller.call('POST', '/v2/hooks/image/', { token: bob, body: { receive_user: 'bob', receive_repo: 'mallory', image: 'alpine' } })).status).toBe(403);
    expect((await ask('alice', 'alpine')).status).toBe(403);
  });
});
