import type { Pod } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registryLogin } from '../formation/deploy.ts';
import { startWithAlicesCreatedApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

const IMAGE = '127.0.0.1:5000/acme/private:1';

/** `deis registry:set username=… password=…` is the login `deis pull` uses for an image of a private registry (contract §1.4). */
describe('pulling from a private registry with the app registry settings', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    ({ controller, alice } = await startWithAlicesCreatedApp());
    // Deis needs PORT before any registry setting.
    expect((await config({ values: { PORT: '5000' } })).status).toBe(201);
    controller.scheduler.inRegistry(IMAGE, 'give', { username: 'bob', password: 's3cret' });
  });
  afterEach(async () => controller.close());

  const config = (body: Record<string, unknown>) => controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body });
  const pull = () => controller.call('POST', '/v2/apps/myapp/builds/', { token: alice, body: { image: IMAGE } });
  const pods = async () => ((await controller.call('GET', '/v2/apps/myapp/pods/', { token: alice })).json as { results: Pod[] }).results;

  it('deploys the image with the username and password the app has set', async () => {
    expect((await config({ registry: { USERNAME: 'bob', password: 's3cret' } })).status).toBe(201);
    const response = await pull();
    expect(response.status).toBe(201);
    expect((await pods()).map((pod) => pod.state)).toEqual(['up']);
  });

  it('is refused without them, or with a wrong password', async () => {
    const without = await pull();
    expect(without.status).toBe(400);
    expect(without.json).toEqual({ detail: `Permission Denied attempting to pull image ${IMAGE}` });
    expect((await config({ registry: { username: 'bob', password: 'guess' } })).status).toBe(201);
    expect((await pull()).json).toEqual({ detail: `Permission Denied attempting to pull image ${IMAGE}` });
    expect(await pods()).toEqual([]);
  });

  it('reads a login only when both username and password are set', () => {
    expect(registryLogin(JSON.stringify({ username: 'bob', password: 'pw' }))).toEqual({ username: 'bob', password: 'pw' });
    expect(registryLogin(JSON.stringify({ username: 'bob' }))).toBeUndefined();
    expect(registryLogin('{}')).toBeUndefined();
    expect(registryLogin(undefined)).toBeUndefined();
  });
});
