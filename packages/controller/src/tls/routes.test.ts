import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tls } from '@deis/sdk/types';
import { shareTestApp, startWithAlicesApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('/v2/apps/{app}/tls', () => {
  let controller: TestController;
  let alice: string;
  let appUuid: string;
  beforeEach(async () => {
    ({ controller, alice, appUuid } = await startWithAlicesApp());
  });
  afterEach(async () => controller.close());

  const post = (body: unknown, token = alice) => controller.call('POST', '/v2/apps/myapp/tls/', { token, body });

  it('has a TLS row from the start, https_enforced null, with the contract fields', async () => {
    const response = await controller.call('GET', '/v2/apps/myapp/tls', { token: alice });
    expect(response.status).toBe(200);
    expect(Object.keys(response.json as object).sort()).toEqual(['app', 'created', 'https_enforced', 'owner', 'updated', 'uuid']);
    expect(response.json).toMatchObject({ app: 'myapp', owner: 'alice', https_enforced: null });
  });

  it('toggles https_enforced (201); a repeat is 409 "<user> changed nothing"', async () => {
    const on = await post({ https_enforced: true });
    expect(on.status).toBe(201);
    expect((on.json as Tls).https_enforced).toBe(true);
    const repeat = await post({ https_enforced: true });
    expect(repeat.status).toBe(409);
    expect(repeat.json).toEqual({ detail: 'alice changed nothing' });
    expect((await post({ https_enforced: 'false' })).status).toBe(201);
    expect(((await controller.call('GET', '/v2/apps/myapp/tls/', { token: alice })).json as Tls).https_enforced).toBe(false);
    expect((await post({ https_enforced: false })).status).toBe(409);
  });

  it('validates the value', async () => {
    const bad = await post({ https_enforced: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ https_enforced: ['"maybe" is not a valid boolean.'] });
    expect((await post({})).json).toEqual({ https_enforced: ['This field is required.'] });
  });

  it('changes the routing table when the value changes, not on a refused request', async () => {
    const before = controller.deps.routing.generation;
    await post({ https_enforced: true });
    const after = controller.deps.routing.generation;
    expect(after).toBeGreaterThan(before);
    await post({ https_enforced: true });
    expect(controller.deps.routing.generation).toBe(after);
  });

  it('applies the app rules; the requester owns the new version', async () => {
    const bob = await controller.user('bob');
    const mallory = await controller.user('mallory');
    await shareTestApp(controller, appUuid, 'bob');
    const byBob = await post({ https_enforced: true }, bob);
    expect(byBob.status).toBe(201);
    expect((byBob.json as Tls).owner).toBe('bob');
    expect((await post({ https_enforced: false }, mallory)).status).toBe(403);
    expect((await controller.call('GET', '/v2/apps/nope/tls/', { token: alice })).status).toBe(404);
  });
});
