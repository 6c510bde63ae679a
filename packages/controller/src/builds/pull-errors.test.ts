import type { Pod, Release } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWithAlicesCreatedApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

/** Issue 9, item 5: `deis pull` of an image no registry has, or one a registry refuses, answers as Deis answered. */
describe('pulling an image that cannot be had', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    ({ controller, alice } = await startWithAlicesCreatedApp());
    controller.scheduler.defineImage('example/web:1', [5000]);
    expect((await pull('example/web:1')).status).toBe(201);
  });
  afterEach(async () => controller.close());

  function pull(image: string) {
    return controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image } });
  }
  const releases = async () => ((await controller.call('GET', '/v2/apps/myapp/releases/', { token: alice })).json as { results: Release[] }).results;
  const pods = async () => ((await controller.call('GET', '/v2/apps/myapp/pods/', { token: alice })).json as { results: Pod[] }).results;

  it('answers 400 "image <ref> not found" for an image no registry has, and the previous release keeps serving', async () => {
    await controller.scheduler.removeImage('deis/nonexistent:dummy');
    const response = await pull('deis/nonexistent:dummy');
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ detail: 'image deis/nonexistent:dummy not found' });
    const [failed, serving] = await releases();
    expect(failed).toMatchObject({ version: 3, failed: true });
    expect(serving).toMatchObject({ version: 2, failed: false });
    expect((await pods()).map((pod) => [pod.release, pod.state])).toEqual([['v2', 'up']]);
  });

  it('answers 400 "Permission Denied attempting to pull image <ref>" for an image its registry refuses', async () => {
    controller.scheduler.inRegistry('127.0.0.1:5000/deis/private:1', 'refuse');
    const response = await pull('127.0.0.1:5000/deis/private:1');
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ detail: 'Permission Denied attempting to pull image 127.0.0.1:5000/deis/private:1' });
    expect((await releases())[0]).toMatchObject({ version: 3, failed: true });
    expect((await pods()).map((pod) => pod.release)).toEqual(['v2']);
  });

  it('deploys an image its registry gives', async () => {
    controller.scheduler.inRegistry('127.0.0.1:5000/deis/public:1', 'give');
    expect((await pull('127.0.0.1:5000/deis/public:1')).status).toBe(201);
    expect((await releases())[0]).toMatchObject({ version: 3, failed: false });
    expect((await pods()).map((pod) => pod.release)).toEqual(['v3']);
  });
});
