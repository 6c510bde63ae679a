import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { storeTime } from '../clock.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import type { ControllerSettings } from '../settings.ts';
import { findUserByUsername } from '../users/user-store.ts';

const USER_FIELDS = ['username', 'email', 'first_name', 'last_name', 'is_superuser', 'is_staff', 'is_active', 'last_login', 'date_joined', 'groups', 'user_permissions'];
const BAD_LOGIN = { non_field_errors: ['Unable to log in with provided credentials.'] };

let controller: TestController;
async function start(overrides: Partial<ControllerSettings> = {}): Promise<TestController> {
  controller = await startTestController(overrides);
  return controller;
}
afterEach(async () => {
  vi.useRealTimers();
  await controller?.close();
});

function registration(username: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { username, password: 'pa55word', email: `${username}@example.test`, first_name: 'Otto', last_name: 'Test', ...extra };
}

async function login(username: string, password: string, headers: Record<string, string> = {}) {
  return controller.call('POST', '/v2/auth/login/', { body: { username, password }, headers });
}

/** An app row owned by `owner`, made directly in the store (the apps feature is another module's). */
async function insertApp(owner: string, id = `app-${randomUUID().slice(0, 8)}`): Promise<string> {
  const user = await findUserByUsername(controller.deps.db, owner);
  const uuid = randomUUID();
  await controller.deps.db
    .insertInto('apps')
    .values({ uuid, id, owner_id: user!.id, structure: '{}', created: storeTime(), updated: storeTime() })
    .execute();
  return uuid;
}

describe('POST /v2/auth/register', () => {
  it('makes the first user an admin and nobody after, whatever the body says', async () => {
    await start();
    const first = await controller.call('POST', '/v2/auth/register/', { body: registration('first', { is_superuser: false }) });
    expect(first.status).toBe(201);
    expect(Object.keys(first.json as object).sort()).toEqual([...USER_FIELDS].sort());
    expect(first.json).toMatchObject({ username: 'first', email: 'first@example.test', first_name: 'Otto', last_name: 'Test', is_superuser: true, is_staff: true, is_active: true, groups: [], user_permissions: [] });
    expect((first.json as { date_joined: string }).date_joined).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const second = await controller.call('POST', '/v2/auth/register', { body: registration('second', { is_superuser: true, is_staff: true }) });
    expect(second.status).toBe(201);
    expect(second.json).toMatchObject({ username: 'second', is_superuser: false, is_staff: false });
    // The password is write-only.
    expect(second.body).not.toContain('pa55word');
  });

  it('accepts form-encoded bodies, as the Deis tests send them', async () => {
    await start();
    const response = await controller.call('POST', '/v2/auth/register', {
      body: 'username=formuser&password=secret&email=formuser%40example.test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(201);
    expect((await login('formuser', 'secret')).status).toBe(200);
  });

  it('reports every field problem in DRF form', async () => {
    await start();
    expect((await controller.call('POST', '/v2/auth/register', { body: {} })).json).toEqual({ username: ['This field is required.'], password: ['This field is required.'] });
    expect((await controller.call('POST', '/v2/auth/register', { body: { username: '', password: '' } })).json).toEqual({
      username: ['This field may not be blank.'],
      password: ['This field may not be blank.'],
    });
    const bad = await controller.call('POST', '/v2/auth/register', { body: registration('bad name!', { email: 'not-an-email' }) });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      username: ['Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.'],
      email: ['Enter a valid email address.'],
    });
    expect((await controller.call('POST', '/v2/auth/register', { body: registration('x'.repeat(151)) })).json).toEqual({ username: ['Ensure this field has no more than 150 characters.'] });
  });

  it('refuses a taken username with the message the SDK matches', async () => {
    await start();
    await controller.call('POST', '/v2/auth/register', { body: registration('taken') });
    const again = await controller.call('POST', '/v2/auth/register', { body: registration('taken') });
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ username: ['A user with that username already exists.'] });
  });

  it('is refused with 403 "Registration is disabled" in disabled mode', async () => {
    await start({ registrationMode: 'disabled' });
    const response = await controller.call('POST', '/v2/auth/register', { body: registration('nobody') });
    expect(response.status).toBe(403);
    expect(response.json).toEqual({ detail: 'Registration is disabled' });
  });

  it('admits anyone while no admin exists, then only admins, in admin_only mode', async () => {
    await start({ registrationMode: 'admin_only' });
    const first = await controller.call('POST', '/v2/auth/register', { body: registration('boss') });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ is_superuser: true });

    const stranger = await controller.call('POST', '/v2/auth/register', { body: registration('stranger') });
    expect(stranger.status).toBe(403);
    expect(stranger.json).toEqual({ detail: 'You do not have permission to perform this action.' });

    const bossToken = ((await login('boss', 'pa55word')).json as { token: string }).token;
    const byAdmin = await controller.call('POST', '/v2/auth/register', { token: bossToken, body: registration('hired', { is_superuser: true }) });
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.json).toMatchObject({ username: 'hired', is_superuser: false });

    const hiredToken = ((await login('hired', 'pa55word')).json as { token: string }).token;
    expect((await controller.call('POST', '/v2/auth/register', { token: hiredToken, body: registration('friend') })).status).toBe(403);
    expect((await controller.call('POST', '/v2/auth/register', { token: '0'.repeat(40), body: registration('friend') })).status).toBe(401);
  });
});

describe('the first registration, which makes the admin', () => {
  const register = (username: string, remoteAddress: string, headers: Record<string, string> = {}) =>
    controller.app.inject({ method: 'POST', url: '/v2/auth/register', remoteAddress, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(registration(username)) });

  it('is refused from a non-loopback address, also one that claims loopback in X-Forwarded-For, and accepted from loopback', async () => {
    await start();
    for (const [address, headers] of [
      ['203.0.113.9', {}],
      ['127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }],
      ['127.0.0.1', { 'x-forwarded-for': '127.0.0.1, 203.0.113.9' }],
    ] as const) {
      const refused = await register('intruder', address, headers);
      expect(refused.statusCode).toBe(403);
      expect(JSON.parse(refused.body)).toEqual({ detail: "The first user becomes the administrator and must register from the platform's own host" });
    }
    expect(await findUserByUsername(controller.deps.db, 'intruder')).toBeUndefined();
    // The CLI on the platform's host, through the router (which adds the client's address) or straight to the API.
    expect((await register('owner', '127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).statusCode).toBe(201);
    // Once there is an admin, others register from anywhere (registration mode enabled).
    expect((await register('remote', '203.0.113.9')).statusCode).toBe(201);
    expect((await findUserByUsername(controller.deps.db, 'remote'))?.is_superuser).toBe(0);
  });

  it('makes exactly one admin when several first registrations arrive at once', async () => {
    await start();
    const responses = await Promise.all(['one', 'two', 'three', 'four'].map((name) => register(name, '::1')));
    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201]);
    const admins = responses.filter((r) => (JSON.parse(r.body) as { is_superuser: boolean }).is_superuser);
    expect(admins).toHaveLength(1);
    const rows = await controller.deps.db.selectFrom('users').select('username').where('is_superuser', '=', 1).execute();
    expect(rows).toHaveLength(1);
  });
});

describe('POST /v2/auth/login/', () => {
  it('returns a new 40-hex token per login that authenticates; earlier logins keep working', async () => {
    await start();
    const earlier = await controller.user('alice', { password: 's3cret' });
    const response = await login('alice', 's3cret');
    expect(response.status).toBe(200);
    expect(Object.keys(response.json as object)).toEqual(['token']);
    const { token } = response.json as { token: string };
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    expect(token).not.toBe(earlier);
    const whoami = await controller.call('GET', '/v2/auth/whoami/', { token });
    expect(whoami.status).toBe(200);
    expect((whoami.json as { last_login: string }).last_login).toMatch(/Z$/);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: earlier })).status).toBe(200);
  });

  it('keeps the newest 20 logins of a user', async () => {
    await start();
    const first = await controller.user('alice', { password: 's3cret' });
    const second = ((await login('alice', 's3cret')).json as { token: string }).token;
    for (let i = 0; i < 19; i += 1) expect((await login('alice', 's3cret')).status).toBe(200);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: first })).status).toBe(401);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: second })).status).toBe(200);
  });

  it('gives the same 400 for a wrong password and an unknown user', async () => {
    await start();
    await controller.user('alice', { password: 's3cret' });
    for (const [username, password] of [['alice', 'wrong'], ['nobody', 's3cret']] as const) {
      const response = await login(username, password);
      expect(response.status).toBe(400);
      expect(response.json).toEqual(BAD_LOGIN);
    }
    expect((await controller.call('POST', '/v2/auth/login/', { body: {} })).json).toEqual({ username: ['This field is required.'], password: ['This field is required.'] });
  });

  it('refuses an inactive user', async () => {
    await start();
    await controller.user('gone', { password: 's3cret' });
    await controller.deps.db.updateTable('users').set({ is_active: 0 }).where('username', '=', 'gone').execute();
    expect((await login('gone', 's3cret')).json).toEqual(BAD_LOGIN);
  });

  it('answers 429 after 10 failures of one username within 5 minutes, even to the right password, then lets it in again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    await start();
    await controller.user('alice', { password: 's3cret' });
    for (let i = 0; i < 10; i += 1) expect((await login('alice', `guess${i}`)).status).toBe(400);

    const blocked = await login('alice', 's3cret');
    expect(blocked.status).toBe(429);
    expect(blocked.json).toEqual({ detail: 'Too many failed login attempts. Try again in 300 seconds.' });
    expect(blocked.headers['retry-after']).toBe('300');
    expect(blocked.headers['deis_api_version']).toBe('2.3');
    // Others are not affected.
    await controller.user('bob', { password: 'b0b' });
    expect((await login('bob', 'b0b')).status).toBe(200);

    vi.setSystemTime(new Date('2026-01-01T00:04:59Z'));
    expect((await login('alice', 's3cret')).status).toBe(429);
    vi.setSystemTime(new Date('2026-01-01T00:05:01Z'));
    expect((await login('alice', 's3cret')).status).toBe(200);
  });

  it('answers 429 to an address that fails 30 times across usernames', async () => {
    await start();
    await controller.user('alice', { password: 's3cret' });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 30; i += 1) expect((await login(`user${i}`, 'guess', from('100.64.9.9'))).status).toBe(400);
    expect((await login('alice', 's3cret', from('100.64.9.9'))).status).toBe(429);
    expect((await login('alice', 's3cret', from('100.64.9.10'))).status).toBe(200);
  });

  it("cannot be made to lock a user out of the address they log in from, the admin included", async () => {
    await start();
    await controller.user('admin', { password: 's3cret', admin: true });
    const home = { 'x-forwarded-for': '100.64.1.1' };
    expect((await login('admin', 's3cret', home)).status).toBe(200);
    // An attacker guesses from many addresses, each below its own limits, far past the per-username limit of 10.
    for (let i = 0; i < 100; i += 1) expect((await login('admin', `guess${i}`, { 'x-forwarded-for': `198.51.100.${i % 10}` })).status).toBe(400);
    expect((await login('admin', 's3cret', home)).status).toBe(200);
    // A new address meets the username's count from everywhere.
    expect((await login('admin', 's3cret', { 'x-forwarded-for': '100.64.2.2' })).status).toBe(429);
  });
});

describe('GET /v2/auth/whoami', () => {
  it('returns the caller, and 401 without a token', async () => {
    await start();
    const token = await controller.user('alice');
    const response = await controller.call('GET', '/v2/auth/whoami', { token });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ username: 'alice', email: 'alice@example.test', is_superuser: false });
    const anonymous = await controller.call('GET', '/v2/auth/whoami');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toEqual({ detail: 'Authentication credentials were not provided.' });
  });
});

describe('POST /v2/auth/passwd', () => {
  it('needs new_password, then the current password, and checks it', async () => {
    await start();
    const token = await controller.user('alice', { password: 'old-pass' });
    const passwd = (body: unknown) => controller.call('POST', '/v2/auth/passwd', { token, body });
    expect(await passwd({})).toMatchObject({ status: 400, json: { detail: 'new_password is a required field' } });
    expect(await passwd({ new_password: 'new-pass' })).toMatchObject({ status: 400, json: { detail: 'password is a required field' } });
    const wrong = await passwd({ password: 'not-it', new_password: 'new-pass' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ detail: 'Current password does not match' });
    expect(wrong.headers['content-type']).toMatch(/^application\/json/);

    const ok = await passwd({ password: 'old-pass', new_password: 'new-pass' });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ status: 'password set' });
    expect((await login('alice', 'old-pass')).status).toBe(400);
    expect((await login('alice', 'new-pass')).status).toBe(200);
  });

  it("ends the user's other tokens and keeps the one that changed it; an admin's reset ends them all", async () => {
    await start();
    const token = await controller.user('alice', { password: 'old-pass' });
    const stolen = ((await login('alice', 'old-pass')).json as { token: string }).token;
    expect((await controller.call('GET', '/v2/auth/whoami', { token: stolen })).status).toBe(200);
    expect((await controller.call('POST', '/v2/auth/passwd', { token, body: { password: 'old-pass', new_password: 'new-pass' } })).status).toBe(200);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: stolen })).status).toBe(401);
    expect((await controller.call('GET', '/v2/auth/whoami', { token })).status).toBe(200);

    const admin = await controller.user('admin', { admin: true });
    expect((await controller.call('POST', '/v2/auth/passwd', { token: admin, body: { username: 'alice', new_password: 'reset' } })).status).toBe(200);
    expect((await controller.call('GET', '/v2/auth/whoami', { token })).status).toBe(401);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: admin })).status).toBe(200);
  });

  it('counts wrong current passwords against the login throttle', async () => {
    await start();
    const token = await controller.user('alice', { password: 'old-pass' });
    for (let i = 0; i < 10; i += 1) {
      expect((await controller.call('POST', '/v2/auth/passwd', { token, body: { password: `guess${i}`, new_password: 'x' } })).status).toBe(401);
    }
    const blocked = await controller.call('POST', '/v2/auth/passwd', { token, body: { password: 'old-pass', new_password: 'x' } });
    expect(blocked.status).toBe(429);
    expect(blocked.json).toMatchObject({ detail: expect.stringMatching(/^Too many failed login attempts/) });
    expect((await login('alice', 'old-pass')).status).toBe(429);
  });

  it("lets an admin set another user's password without the current one; others get 403", async () => {
    await start();
    const admin = await controller.user('admin', { admin: true });
    const alice = await controller.user('alice', { password: 'alice-pass' });
    await controller.user('bob', { password: 'bob-pass' });

    expect((await controller.call('POST', '/v2/auth/passwd', { token: admin, body: { username: 'bob', new_password: 'set-by-admin' } })).status).toBe(200);
    expect((await login('bob', 'bob-pass')).status).toBe(400);
    expect((await login('bob', 'set-by-admin')).status).toBe(200);

    const denied = await controller.call('POST', '/v2/auth/passwd', { token: alice, body: { username: 'bob', password: 'set-by-admin', new_password: 'mine-now' } });
    expect(denied.status).toBe(403);
    expect((await controller.call('POST', '/v2/auth/passwd', { token: admin, body: { username: 'ghost', new_password: 'x' } })).json).toBe('No User matches the given query.');
    // Naming oneself is fine.
    expect((await controller.call('POST', '/v2/auth/passwd', { token: alice, body: { username: 'alice', password: 'alice-pass', new_password: 'alice-2' } })).status).toBe(200);
  });
});

describe('DELETE /v2/auth/cancel', () => {
  it('deletes the caller, whose token then stops working', async () => {
    await start();
    await controller.user('admin', { admin: true });
    const token = await controller.user('alice');
    const response = await controller.call('DELETE', '/v2/auth/cancel', { token });
    expect(response.status).toBe(204);
    expect(response.body).toBe('');
    expect((await controller.call('GET', '/v2/auth/whoami', { token })).status).toBe(401);
    expect(await findUserByUsername(controller.deps.db, 'alice')).toBeUndefined();
  });

  it('lets an admin cancel another user; others get 403; an unknown user is 404', async () => {
    await start();
    const admin = await controller.user('admin', { admin: true });
    const alice = await controller.user('alice');
    await controller.user('bob');
    expect((await controller.call('DELETE', '/v2/auth/cancel', { token: alice, body: { username: 'bob' } })).status).toBe(403);
    expect((await controller.call('DELETE', '/v2/auth/cancel', { token: admin, body: { username: 'bob' } })).status).toBe(204);
    expect(await findUserByUsername(controller.deps.db, 'bob')).toBeUndefined();
    const missing = await controller.call('DELETE', '/v2/auth/cancel', { token: admin, body: { username: 'bob' } });
    expect(missing.status).toBe(404);
    expect(missing.json).toBe('No User matches the given query.');
  });

  it('answers 409 while the user owns apps, with the message the SDK matches', async () => {
    await start();
    await controller.user('admin', { admin: true });
    const token = await controller.user('alice');
    await insertApp('alice');
    const response = await controller.call('DELETE', '/v2/auth/cancel', { token });
    expect(response.status).toBe(409);
    expect(response.json).toEqual({ detail: 'alice still has applications assigned. Delete or transfer ownership' });
  });

  it('keeps at least one admin while other users exist', async () => {
    await start();
    const admin = await controller.user('admin', { admin: true });
    await controller.user('alice');
    const response = await controller.call('DELETE', '/v2/auth/cancel', { token: admin });
    expect(response.status).toBe(409);
    expect(response.json).toEqual({ detail: 'admin is the only administrator. Make another user an administrator first' });
  });

  it("hands what a collaborator made on others' apps to the app's owner", async () => {
    await start();
    await controller.user('admin', { admin: true });
    const token = await controller.user('helper');
    const appUuid = await insertApp('admin');
    const helper = await findUserByUsername(controller.deps.db, 'helper');
    const admin = await findUserByUsername(controller.deps.db, 'admin');
    const config = { uuid: randomUUID(), app_uuid: appUuid, owner_id: helper!.id, values: '{}', memory: '{}', cpu: '{}', tags: '{}', registry: '{}', healthcheck: '{}', created: storeTime(), updated: storeTime() };
    await controller.deps.db.insertInto('configs').values(config).execute();
    await controller.deps.db.insertInto('perms').values({ app_uuid: appUuid, user_id: helper!.id, created: storeTime() }).execute();

    expect((await controller.call('DELETE', '/v2/auth/cancel', { token })).status).toBe(204);
    const row = await controller.deps.db.selectFrom('configs').select('owner_id').where('uuid', '=', config.uuid).executeTakeFirstOrThrow();
    expect(row.owner_id).toBe(admin!.id);
    expect(await controller.deps.db.selectFrom('perms').selectAll().execute()).toEqual([]);
  });
});

describe('POST /v2/auth/tokens/', () => {
  it('regenerates the own token; the old ones stop working at once', async () => {
    await start();
    const old = await controller.user('alice');
    const otherLogin = ((await login('alice', 'password')).json as { token: string }).token;
    const response = await controller.call('POST', '/v2/auth/tokens/', { token: old, body: {} });
    expect(response.status).toBe(200);
    const { token } = response.json as { token: string };
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    expect(token).not.toBe(old);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: old })).status).toBe(401);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: otherLogin })).status).toBe(401);
    expect((await controller.call('GET', '/v2/auth/whoami', { token })).status).toBe(200);
  });

  it("lets only admins regenerate another user's token or everyone's", async () => {
    await start();
    const admin = await controller.user('admin', { admin: true });
    const alice = await controller.user('alice');
    const bob = await controller.user('bob');
    expect((await controller.call('POST', '/v2/auth/tokens/', { token: alice, body: { username: 'bob' } })).status).toBe(403);
    expect((await controller.call('POST', '/v2/auth/tokens/', { token: alice, body: { all: 'true' } })).status).toBe(403);

    const forBob = await controller.call('POST', '/v2/auth/tokens/', { token: admin, body: { username: 'bob' } });
    expect(forBob.status).toBe(200);
    const bobToken = (forBob.json as { token: string }).token;
    expect((await controller.call('GET', '/v2/auth/whoami', { token: bob })).status).toBe(401);
    expect((await controller.call('GET', '/v2/auth/whoami', { token: bobToken })).json).toMatchObject({ username: 'bob' });
    expect((await controller.call('POST', '/v2/auth/tokens/', { token: admin, body: { username: 'ghost' } })).status).toBe(404);

    const all = await controller.call('POST', '/v2/auth/tokens/', { token: admin, body: { all: true } });
    expect(all.status).toBe(200);
    expect(all.json).toBe('');
    for (const token of [admin, alice, bobToken]) expect((await controller.call('POST', '/v2/auth/tokens/', { token, body: {} })).status).toBe(401);
    // Everyone logs in again.
    expect((await login('alice', 'password')).status).toBe(200);
  });
});
