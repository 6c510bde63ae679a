import type { Release } from '@deis/sdk/types';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('an app keeps a bounded history: images and releases beyond the settings are pruned', () => {
  let controller: TestController;
  let alice: string;
  afterEach(async () => controller.close());

  async function start(overrides: { imagesKeptPerApp?: number; releasesKeptPerApp?: number }): Promise<void> {
    controller = await startTestController(overrides);
    alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
  }

  /** A push as the builder reports it: the image `myapp:git-<sha8>`. */
  async function push(n: number): Promise<string> {
    const sha = `${String(n).padStart(2, '0')}abcdef`;
    const image = `myapp:git-${sha}`;
    controller.scheduler.defineImage(image, [5000]);
    const response = await controller.call('POST', '/v2/hooks/build/', {
      builder: true,
      body: { receive_user: 'alice', receive_repo: 'myapp', image, sha, procfile: {}, dockerfile: 'true' },
    });
    expect(response.status).toBe(200);
    return image;
  }
  const exists = async (image: string) => (await controller.scheduler.imagePorts(image)) !== null;
  const rollback = (version: number) => controller.call('POST', '/v2/apps/myapp/releases/rollback/', { token: alice, body: { version } });

  it("removes the builder's images beyond the newest kept after a deploy, and a rollback to one says so with 400", async () => {
    await start({ imagesKeptPerApp: 2 });
    const images = [];
    for (const n of [1, 2, 3, 4]) images.push(await push(n));
    expect(await Promise.all(images.map(exists))).toEqual([false, false, true, true]);

    const refused = await rollback(2);
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      detail: 'The image of v2 (myapp:git-01abcdef) was pruned: an app keeps the images of its newest 2 builds (DEIS_IMAGES_KEPT). Push commit 01abcdef again to build it anew.',
    });
    // A kept one still rolls back; once newer builds push it out of the newest two, it goes too.
    expect((await rollback(4)).status).toBe(201);
    await push(5);
    expect(await Promise.all(images.map(exists))).toEqual([false, false, false, true]);
  });

  it('keeps v1, the newest releases and the one in force; a rollback to a pruned one says so, and releases still lists', async () => {
    await start({ releasesKeptPerApp: 3 });
    for (const n of [1, 2, 3, 4, 5]) await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { N: String(n) } } });
    const listed = (await controller.call('GET', '/v2/apps/myapp/releases/', { token: alice })).json as { count: number; results: Release[] };
    expect(listed.results.map((r) => r.version)).toEqual([6, 5, 4, 1]);
    expect(listed.count).toBe(4);
    const configs = await controller.deps.db.selectFrom('configs').select('uuid').execute();
    expect(configs.map((c) => c.uuid).sort()).toEqual(listed.results.map((r) => r.config).sort());

    const refused = await rollback(2);
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ detail: 'Release v2 was pruned: an app keeps its newest 3 releases (DEIS_RELEASES_KEPT), v1 and the one in force.' });
    expect((await rollback(9)).json).toEqual({ detail: 'Release matching query does not exist.' });
    // The default rollback (the one before the release in force) still works, and its config is the one of v5.
    expect((await controller.call('POST', '/v2/apps/myapp/releases/rollback/', { token: alice, body: '', headers: { 'content-type': 'application/json' } })).json).toEqual({ version: 7 });
    const config = (await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json as { values: Record<string, string> };
    expect(config.values).toEqual({ N: '4' });
  });

  it('never prunes the release in force or its image, even when failed releases came after it', async () => {
    await start({ releasesKeptPerApp: 2, imagesKeptPerApp: 1 });
    const good = await push(1);
    for (const n of [2, 3, 4]) {
      const image = `myapp:git-${String(n).padStart(2, '0')}abcdef`;
      controller.scheduler.defineImage(image, [5000]);
      controller.scheduler.crashImage(image);
      await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp', image, sha: image.slice(-8), procfile: {}, dockerfile: 'true' } });
    }
    await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { A: '1' } } });
    const listed = (await controller.call('GET', '/v2/apps/myapp/releases/', { token: alice })).json as { results: Release[] };
    expect(listed.results.map((r) => [r.version, r.failed])).toEqual([
      [6, false],
      [5, true],
      [1, false],
    ]);
    expect(await exists(good)).toBe(true);
  });
});
