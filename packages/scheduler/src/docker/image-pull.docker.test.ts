/**
 * Pulling on the Docker backend: an image the engine lacks comes from a registry on this host, and a registry that has
 * no such image or refuses it is told apart (issue 9, item 5). The registry is the test registry on 127.0.0.1.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageNotFoundError, ImagePullDeniedError } from '../scheduler.ts';
import { BASE_IMAGE, ensureStackImages } from '../stack-images.ts';
import { DockerScheduler } from './docker-scheduler.ts';
import { startTestRegistry } from './test-registry.ts';
import type { TestRegistry } from './test-registry.ts';

const docker = new Docker();
const id = randomBytes(4).toString('hex');
// No container is started, so the scheduler needs no network of its own.
const scheduler = new DockerScheduler({ docker, platformName: `deis-test-pull-${id}`, networkName: `deis-test-pull-${id}`, networkSubnet: '100.64.0.0/24', containerKey: randomBytes(16).toString('hex') });
let registry: TestRegistry;
const pulled: string[] = [];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  await ensureStackImages(docker);
  registry = await startTestRegistry(docker);
});
afterAll(async () => {
  for (const image of pulled) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  await registry?.close();
});

describe('DockerScheduler.ensureImage', () => {
  it('pulls an image the engine lacks from a registry on this host, after which the engine has it', async () => {
    const image = `${registry.host}/pulled/base:${id}`;
    await registry.serve(BASE_IMAGE, 'pulled/base', id);
    expect(await scheduler.imagePorts(image)).toBeNull();
    pulled.push(image);
    await scheduler.ensureImage(image);
    expect(await scheduler.imagePorts(image)).toEqual([]);
    expect(await scheduler.imageHasFile(image, '/bin/sh')).toBe(true);
    // Present now: a second call asks no registry.
    const asked = registry.requests.length;
    await scheduler.ensureImage(image);
    expect(registry.requests.length).toBe(asked);
  });

  it('says ImageNotFoundError when the registry has no such image', async () => {
    const image = `${registry.host}/deis/nonexistent:dummy`;
    const error = await rejection(scheduler.ensureImage(image));
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as ImageNotFoundError).image).toBe(image);
    expect(registry.requests).toContain('GET /v2/deis/nonexistent/manifests/dummy');
  });

  it('says ImagePullDeniedError when the registry wants a login or denies access', async () => {
    for (const image of [`${registry.host}/denied/app:1`, `${registry.host}/forbidden/app:1`]) {
      const error = await rejection(scheduler.ensureImage(image));
      expect(error, image).toBeInstanceOf(ImagePullDeniedError);
      expect((error as ImagePullDeniedError).image).toBe(image);
    }
  });

  it('logs in with the login it is given (an app\'s deis registry settings) to a registry that wants one', async () => {
    const login = { username: 'bob', password: `s3cret-${id}` };
    const privateRegistry = await startTestRegistry(docker, login);
    try {
      const image = `${privateRegistry.host}/private/base:${id}`;
      await privateRegistry.serve(BASE_IMAGE, 'private/base', id);
      expect(await rejection(scheduler.ensureImage(image))).toBeInstanceOf(ImagePullDeniedError);
      expect(await rejection(scheduler.ensureImage(image, { username: 'bob', password: 'wrong' }))).toBeInstanceOf(ImagePullDeniedError);
      expect(await scheduler.imagePorts(image)).toBeNull();
      pulled.push(image);
      await scheduler.ensureImage(image, login);
      expect(await scheduler.imagePorts(image)).toEqual([]);
    } finally {
      await privateRegistry.close();
    }
  });

  it('asks no registry off this host: a Docker Hub or remote name the engine lacks is not found at once', async () => {
    for (const image of [`deis/nonexistent:${id}`, `quay.io/deis/nonexistent:${id}`]) {
      const began = Date.now();
      expect(await rejection(scheduler.ensureImage(image)), image).toBeInstanceOf(ImageNotFoundError);
      expect(Date.now() - began).toBeLessThan(2_000);
    }
  });
});
