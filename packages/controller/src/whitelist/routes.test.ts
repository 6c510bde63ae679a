import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shareTestApp, startWithAlicesApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('/v2/apps/{app}/whitelist', () => {
  let controller: TestController;
  let alice: string;
  let appUuid: string;
  beforeEach(async () => {
    ({ controller, alice, appUuid } = await startWithAlicesApp());
  });
  afterEach(async () => controller.close());

  const addresses = async () => {
    const response = await controller.call('GET', '/v2/apps/myapp/whitelist/', { token: alice });
    expect(response.status).toBe(200);
    return response.json;
  };

  it('starts empty, adds as a union (201), and the settings show the same list', async () => {
    expect(await addresses()).toEqual({ addresses: [] });
    const first = await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['1.2.3.4', '10.0.0.0/8'] } });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ addresses: ['1.2.3.4', '10.0.0.0/8'] });
    const second = await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['10.0.0.0/8', '::1'] } });
    expect(second.json).toEqual({ addresses: ['1.2.3.4', '10.0.0.0/8', '::1'] });
    expect(await addresses()).toEqual({ addresses: ['1.2.3.4', '10.0.0.0/8', '::1'] });
    const settings = await controller.call('GET', '/v2/apps/myapp/settings/', { token: alice });
    expect((settings.json as { whitelist: string[] }).whitelist).toEqual(['1.2.3.4', '10.0.0.0/8', '::1']);
  });

  it('answers adding only known addresses with 409, and a bad address with 400', async () => {
    await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['1.2.3.4'] } });
    const again = await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['1.2.3.4'] } });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ detail: 'alice changed nothing' });
    const bad = await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['5.6.7.8', '300.1.1.1'] } });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ addresses: ['The address 300.1.1.1 is not valid'] });
    expect((await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: {} })).status).toBe(400);
    expect(await addresses()).toEqual({ addresses: ['1.2.3.4'] });
  });

  it('removes addresses (204); removing an unknown one is 422 and removes nothing', async () => {
    await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['1.2.3.4', '5.6.7.8', '::1'] } });
    const unknown = await controller.call('DELETE', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['5.6.7.8', '9.9.9.9', '8.8.8.8'] } });
    expect(unknown.status).toBe(422);
    expect(unknown.json).toEqual({ detail: "addresses {'9.9.9.9', '8.8.8.8'} does not exist in whitelist" });
    expect(await addresses()).toEqual({ addresses: ['1.2.3.4', '5.6.7.8', '::1'] });
    const removed = await controller.call('DELETE', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['5.6.7.8', '1.2.3.4'] } });
    expect(removed.status).toBe(204);
    expect(await addresses()).toEqual({ addresses: ['::1'] });
  });

  it('changes the routing table on every change', async () => {
    const before = controller.deps.routing.generation;
    await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['1.2.3.4'] } });
    const added = controller.deps.routing.generation;
    expect(added).toBeGreaterThan(before);
    await controller.call('DELETE', '/v2/apps/myapp/whitelist/', { token: alice, body: { addresses: ['1.2.3.4'] } });
    expect(controller.deps.routing.generation).toBeGreaterThan(added);
  });

  it('lets collaborators list and add but not remove; strangers get 403', async () => {
    const bob = await controller.user('bob');
    const mallory = await controller.user('mallory');
    await shareTestApp(controller, appUuid, 'bob');
    expect((await controller.call('POST', '/v2/apps/myapp/whitelist/', { token: bob, body: { addresses: ['1.2.3.4'] } })).status).toBe(201);
    expect((await controller.call('DELETE', '/v2/apps/myapp/whitelist/', { token: bob, body: { addresses: ['1.2.3.4'] } })).status).toBe(403);
    expect((await controller.call('GET', '/v2/apps/myapp/whitelist/', { token: mallory })).status).toBe(403);
    expect((await controller.call('GET', '/v2/apps/nope/whitelist/', { token: alice })).status).toBe(404);
  });
});
