import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SchedulerUnavailableError } from '@deis/scheduler/scheduler';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('apps:destroy removes the images the builder made for the app', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    for (const id of ['myapp', 'other']) expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id } })).status).toBe(201);
  });
  afterEach(async () => controller.close());

  /** A `git push` as the builder reports it: `<app>:git-<sha8>` and the sha. */
  async function push(app: string, sha: string): Promise<string> {
    const image = `${app}:git-${sha}`;
    const body = { receive_user: 'alice', receive_repo: app, image, sha, procfile: { web: 'node server.js' }, dockerfile: '' };
    expect((await controller.call('POST', '/v2/hooks/build/', { builder: true, body })).status).toBe(200);
    return image;
  }

  async function pull(app: string, image: string): Promise<void> {
    expect((await controller.call('POST', `/v2/apps/${app}/builds/`, { token: alice, body: { image, procfile: { web: 'node server.js' } } })).status).toBe(201);
  }

  const exists = async (image: string) => (await controller.scheduler.imagePorts(image)) !== null;

  it("removes the app's builder images, keeping pulled ones and those another app's build names", async () => {
    const first = await push('myapp', 'aaaaaaa1');
    const second = await push('myapp', 'bbbbbbb2');
    const third = await push('myapp', 'ccccccc3');
    // Pulled, so the user's own images, even the one named like a build of this app.
    await pull('myapp', 'registry.example.test/tools:1');
    await pull('myapp', 'myapp:git-dddddddd');
    // Another app deploys two of the builds, one under the long form of its name; neither runs there now.
    await pull('other', second);
    await pull('other', `docker.io/library/${third}`);
    await pull('other', 'registry.example.test/tools:2');
    const otherContainers = controller.scheduler.specs().filter((s) => s.labels['io.deis.app'] === 'other');
    expect(otherContainers.map((s) => s.image)).toEqual(['registry.example.test/tools:2']);

    expect((await controller.call('DELETE', '/v2/apps/myapp/', { token: alice })).status).toBe(204);
    expect(await exists(first)).toBe(false);
    expect(await exists(second)).toBe(true);
    expect(await exists(third)).toBe(true);
    expect(await exists('myapp:git-dddddddd')).toBe(true);
    expect(await exists('registry.example.test/tools:1')).toBe(true);

    // To the other app they were pulled images, which its destroy leaves too.
    expect((await controller.call('DELETE', '/v2/apps/other/', { token: alice })).status).toBe(204);
    expect(await exists(second)).toBe(true);
    expect(await exists('registry.example.test/tools:2')).toBe(true);
  });

  it('destroys the app even when an image cannot go, and reports each one that stays', async () => {
    const kept = await push('myapp', 'aaaaaaa1');
    const failing = await push('myapp', 'bbbbbbb2');
    const removed = await push('myapp', 'ccccccc3');
    // A container that is none of the app's (a second platform on the same engine, say) uses the first image.
    await controller.scheduler.start({ name: 'outsider', image: kept, env: {}, labels: {} });
    const warn = vi.spyOn(controller.app.log, 'warn');
    const error = vi.spyOn(controller.app.log, 'error');
    const original = controller.scheduler.removeImage.bind(controller.scheduler);
    const removeImage = vi.spyOn(controller.scheduler, 'removeImage').mockImplementation(async (image) => {
      if (image === failing) throw new SchedulerUnavailableError('engine down');
      return original(image);
    });

    expect((await controller.call('DELETE', '/v2/apps/myapp/', { token: alice })).status).toBe(204);
    expect((await controller.call('GET', '/v2/apps/myapp/', { token: alice })).status).toBe(404);
    expect(removeImage.mock.calls.map(([image]) => image)).toEqual([kept, failing, removed]);
    expect(await exists(kept)).toBe(true);
    expect(await exists(failing)).toBe(true);
    expect(await exists(removed)).toBe(false);
    expect(warn).toHaveBeenCalledWith({ image: kept }, expect.stringContaining('a container still uses it'));
    expect(error).toHaveBeenCalledWith({ err: expect.any(SchedulerUnavailableError), image: failing }, expect.stringContaining('failed'));
  });
});
