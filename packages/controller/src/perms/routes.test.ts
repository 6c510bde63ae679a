import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from '@deis/sdk/types';
import { recentEvents } from '../events/event-log.ts';
import { createTestApp } from '../testing/test-apps.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

const FORBIDDEN = { detail: 'You do not have permission to perform this action.' };

describe('/v2/apps/{app}/perms', () => {
  let controller: TestController;
  let admin: string;
  let owner: string;
  let alice: string;
  let bob: string;
  let appUuid: string;

  const perms = (token: string) => controller.call('GET', '/v2/apps/demo/perms/', { token });
  const share = (token: string, username: unknown, app = 'demo') => controller.call('POST', `/v2/apps/${app}/perms/`, { token, body: { username } });
  const unshare = (token: string, username: string, app = 'demo') => controller.call('DELETE', `/v2/apps/${app}/perms/${username}`, { token });

  beforeEach(async () => {
    controller = await startTestController();
    admin = await controller.user('admin', { admin: true });
    owner = await controller.user('owner');
    alice = await controller.user('alice');
    bob = await controller.user('bob');
    appUuid = (await createTestApp(controller, 'owner', 'demo')).uuid;
  });
  afterEach(async () => controller.close());

  it('lists collaborators only (not the owner), and the owner may add and remove them', async () => {
    expect(await perms(owner)).toMatchObject({ status: 200, json: { users: [] } });
    const added = await share(owner, 'bob');
    expect(added.status).toBe(201);
    expect(added.body).toBe('');
    await share(owner, 'alice');
    expect((await perms(owner)).json).toEqual({ users: ['alice', 'bob'] });
    // A collaborator may read the list too.
    expect((await perms(alice)).json).toEqual({ users: ['alice', 'bob'] });

    expect((await unshare(owner, 'bob')).status).toBe(204);
    expect((await perms(owner)).json).toEqual({ users: ['alice'] });
    const events = await recentEvents(controller.deps.db, appUuid, 10);
    expect(events.map((e) => e.line.replace(/^.*INFO /, ''))).toEqual(['User bob was granted access to demo', 'User alice was granted access to demo', 'User bob was revoked access to demo']);
  });

  it('gives access to the app: a collaborator passes the app checks', async () => {
    expect((await perms(alice)).status).toBe(403);
    await share(owner, 'alice');
    expect((await perms(alice)).status).toBe(200);
  });

  it('lets an admin manage any app', async () => {
    expect((await share(admin, 'alice')).status).toBe(201);
    expect((await perms(admin)).json).toEqual({ users: ['alice'] });
    expect((await unshare(admin, 'alice')).status).toBe(204);
  });

  it('answers 404 for an unknown app before any permission check', async () => {
    for (const response of [await controller.call('GET', '/v2/apps/nope/perms', { token: bob }), await share(bob, 'alice', 'nope'), await unshare(bob, 'alice', 'nope')]) {
      expect(response.status).toBe(404);
      expect(response.json).toBe('No App matches the given query.');
    }
  });

  it('refuses strangers and collaborators who try to share (403)', async () => {
    expect(await share(bob, 'alice')).toMatchObject({ status: 403, json: FORBIDDEN });
    await share(owner, 'alice');
    expect(await share(alice, 'bob')).toMatchObject({ status: 403, json: FORBIDDEN });
    expect((await perms(owner)).json).toEqual({ users: ['alice'] });
  });

  it('lets a collaborator remove themself but not others', async () => {
    await share(owner, 'alice');
    await share(owner, 'bob');
    expect((await unshare(alice, 'bob')).status).toBe(403);
    expect((await unshare(alice, 'alice')).status).toBe(204);
    expect((await perms(owner)).json).toEqual({ users: ['bob'] });
  });

  it('answers 403 when the user has no permission to remove, and 404 for an unknown user', async () => {
    expect(await unshare(owner, 'alice')).toMatchObject({ status: 403, json: FORBIDDEN });
    expect(await unshare(owner, 'ghost')).toMatchObject({ status: 404, json: 'No User matches the given query.' });
    expect(await share(owner, 'ghost')).toMatchObject({ status: 404, json: 'No User matches the given query.' });
    expect(await share(owner, undefined)).toMatchObject({ status: 400, json: { username: ['This field is required.'] } });
  });

  it('needs a token', async () => {
    expect((await controller.call('GET', '/v2/apps/demo/perms')).status).toBe(401);
  });
});

describe('/v2/admin/perms', () => {
  let controller: TestController;
  let admin: string;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    admin = await controller.user('admin', { admin: true });
    alice = await controller.user('alice');
    await controller.user('bob');
  });
  afterEach(async () => controller.close());

  const list = async (token: string) => (await controller.call('GET', '/v2/admin/perms/', { token })).json as Page<{ username: string; is_superuser: boolean }>;

  it('lists active admins, grants and revokes admin rights', async () => {
    expect((await list(admin)).results).toEqual([{ username: 'admin', is_superuser: true }]);
    const granted = await controller.call('POST', '/v2/admin/perms/', { token: admin, body: { username: 'alice' } });
    expect(granted.status).toBe(201);
    expect(granted.body).toBe('');
    const page = await list(admin);
    expect(page.count).toBe(2);
    expect(page.results).toEqual([
      { username: 'admin', is_superuser: true },
      { username: 'alice', is_superuser: true },
    ]);
    // alice is an admin now: she may list users.
    expect((await controller.call('GET', '/v2/users', { token: alice })).status).toBe(200);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: alice })).json).toMatchObject({ is_superuser: true, is_staff: true });

    expect((await controller.call('DELETE', '/v2/admin/perms/alice', { token: admin })).status).toBe(204);
    expect((await list(admin)).results).toEqual([{ username: 'admin', is_superuser: true }]);
    expect((await controller.call('GET', '/v2/users', { token: alice })).status).toBe(403);
  });

  it('is admin only', async () => {
    expect((await controller.call('GET', '/v2/admin/perms', { token: alice })).status).toBe(403);
    expect((await controller.call('POST', '/v2/admin/perms', { token: alice, body: { username: 'alice' } })).status).toBe(403);
    expect((await controller.call('DELETE', '/v2/admin/perms/admin', { token: alice })).status).toBe(403);
    expect((await controller.call('GET', '/v2/admin/perms')).status).toBe(401);
  });

  it('answers 404 for unknown users', async () => {
    expect(await controller.call('POST', '/v2/admin/perms', { token: admin, body: { username: 'ghost' } })).toMatchObject({ status: 404, json: 'No User matches the given query.' });
    expect(await controller.call('DELETE', '/v2/admin/perms/ghost', { token: admin })).toMatchObject({ status: 404, json: 'No User matches the given query.' });
  });

  it('keeps the last admin', async () => {
    const response = await controller.call('DELETE', '/v2/admin/perms/admin', { token: admin });
    expect(response.status).toBe(409);
    expect(response.json).toEqual({ detail: 'admin is the only administrator. Make another user an administrator first' });
  });
});
