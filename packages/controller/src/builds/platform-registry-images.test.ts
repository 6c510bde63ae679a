import { afterEach, describe, expect, it } from 'vitest';
import { loadControllerSettings } from '../settings.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

const REGISTRY = '100.124.0.11:5000';

describe("the platform registry's images (DEIS_REGISTRY, ADR 0019)", () => {
  let controller: TestController;
  afterEach(async () => controller.close());

  it("lets only a user of the app deploy an image from the platform's registry, whatever its tag", async () => {
    controller = await startTestController({ registry: REGISTRY });
    const [alice, bob] = [await controller.user('alice'), await controller.user('bob')];
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    await controller.call('POST', '/v2/apps/', { token: bob, body: { id: 'bobs' } });
    const pull = (image: string) => controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image } });
    for (const image of [`${REGISTRY}/bobs:git-0a1b2c3d`, `${REGISTRY}/bobs:latest`, `${REGISTRY}/gone:git-0a1b2c3d`]) {
      controller.scheduler.defineImage(image, [5000]);
      const refused = await pull(image);
      expect(refused.status, image).toBe(403);
      expect(JSON.stringify(refused.json)).toContain("is in the platform's registry and was not built for an app you may use");
    }
    controller.scheduler.defineImage(`${REGISTRY}/myapp:git-0a1b2c3d`, [5000]);
    expect((await pull(`${REGISTRY}/myapp:git-0a1b2c3d`)).status).toBe(201);
    await controller.call('POST', '/v2/apps/bobs/perms/', { token: bob, body: { username: 'alice' } });
    expect((await pull(`${REGISTRY}/bobs:git-0a1b2c3d`)).status).toBe(201);
  });

  it("prunes the builder's images named under the registry, and removes them with the app", async () => {
    controller = await startTestController({ registry: REGISTRY, imagesKeptPerApp: 1 });
    const alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const images: string[] = [];
    for (const n of [1, 2, 3]) {
      const sha = `${n}0abcdef`;
      const image = `${REGISTRY}/myapp:git-${sha}`;
      controller.scheduler.defineImage(image, [5000]);
      const response = await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp', image, sha, procfile: {}, dockerfile: 'true' } });
      expect(response.status).toBe(200);
      images.push(image);
    }
    const exists = async (image: string) => (await controller.scheduler.imagePorts(image)) !== null;
    expect(await Promise.all(images.map(exists))).toEqual([false, false, true]);
    expect((await controller.call('DELETE', '/v2/apps/myapp/', { token: alice })).status).toBe(204);
    expect(await exists(images[2]!)).toBe(false);
  });

  it('without the setting, a name under a registry is not taken for a builder image', async () => {
    controller = await startTestController({ imagesKeptPerApp: 1 });
    const alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const images: string[] = [];
    for (const n of [1, 2]) {
      const sha = `${n}0abcdef`;
      const image = `${REGISTRY}/myapp:git-${sha}`;
      controller.scheduler.defineImage(image, [5000]);
      await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp', image, sha, procfile: {}, dockerfile: 'true' } });
      images.push(image);
    }
    expect((await controller.scheduler.imagePorts(images[0]!)) !== null).toBe(true);
  });
});

// Apart from the block above, whose every test starts a controller that its afterEach closes.
describe('DEIS_REGISTRY', () => {
  it('reads the registry from DEIS_REGISTRY', () => {
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: 'k'.repeat(32), DEIS_REGISTRY: ` ${REGISTRY} ` }).registry).toBe(REGISTRY);
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: 'k'.repeat(32) }).registry).toBeNull();
  });
});
