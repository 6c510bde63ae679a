import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

const formation = vi.hoisted(() => ({ deployRelease: vi.fn(async () => undefined), removeAppContainers: vi.fn(async () => undefined) }));
vi.mock('../formation/deploy.ts', () => formation);

describe('apps (contract §1.2, §1.4)', () => {
  let controller: TestController;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    formation.removeAppContainers.mockClear();
    controller = await startTestController();
    alice = await controller.user('alice');
    bob = await controller.user('bob');
  });
  afterEach(async () => controller.close());

  it('creates an app with the given id and answers the App fields only', async () => {
    const response = await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    expect(response.status).toBe(201);
    const app = response.json as Record<string, unknown>;
    expect(Object.keys(app).sort()).toEqual(['created', 'id', 'owner', 'structure', 'updated', 'uuid']);
    expect(app).toMatchObject({ id: 'myapp', owner: 'alice', structure: {} });
    expect(app.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('makes up an adjective-noun name for an empty body', async () => {
    const response = await controller.call('POST', '/v2/apps/', { token: alice, body: '', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(201);
    expect((response.json as { id: string }).id).toMatch(/^[a-z]+-[a-z]+$/);
  });

  it('creates config, release v1, settings, TLS and the default domain with the app', async () => {
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const { db } = controller.deps;
    const app = await db.selectFrom('apps').selectAll().where('id', '=', 'myapp').executeTakeFirstOrThrow();
    const releases = await db.selectFrom('releases').selectAll().where('app_uuid', '=', app.uuid).execute();
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({ version: 1, summary: 'alice created initial release', build_uuid: null, failed: 0 });
    const config = await db.selectFrom('configs').selectAll().where('uuid', '=', releases[0]!.config_uuid).executeTakeFirstOrThrow();
    expect(JSON.parse(config.values)).toEqual({});
    expect(await db.selectFrom('app_settings').select(['maintenance', 'routable', 'whitelist']).where('app_uuid', '=', app.uuid).execute()).toEqual([{ maintenance: 0, routable: 1, whitelist: '[]' }]);
    expect(await db.selectFrom('tls').select('https_enforced').where('app_uuid', '=', app.uuid).execute()).toEqual([{ https_enforced: null }]);
    expect(await db.selectFrom('domains').select('domain').where('app_uuid', '=', app.uuid).execute()).toEqual([{ domain: 'myapp' }]);
  });

  it('marks the routing table changed on create and on destroy', async () => {
    const before = controller.deps.routing.generation;
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const afterCreate = controller.deps.routing.generation;
    expect(afterCreate).toBeGreaterThan(before);
    await controller.call('DELETE', '/v2/apps/myapp/', { token: alice });
    expect(controller.deps.routing.generation).toBeGreaterThan(afterCreate);
  });

  it('refuses bad, long, reserved and duplicate names with the contract messages', async () => {
    const cases: [unknown, string][] = [
      ['My_App', 'App name must start with an alphabetic character, cannot end with a hyphen and can only contain a-z (lowercase), 0-9 and hyphens.'],
      ['1app', 'App name must start with an alphabetic character, cannot end with a hyphen and can only contain a-z (lowercase), 0-9 and hyphens.'],
      ['app-', 'App name must start with an alphabetic character, cannot end with a hyphen and can only contain a-z (lowercase), 0-9 and hyphens.'],
      ['a'.repeat(64), 'Ensure this field has no more than 63 characters.'],
      ['deis', 'deis is a reserved name.'],
    ];
    for (const [id, message] of cases) {
      const response = await controller.call('POST', '/v2/apps/', { token: alice, body: { id } });
      expect(response.status, String(id)).toBe(400);
      expect(response.json).toEqual({ id: [message] });
    }
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'a'.repeat(63) } })).status).toBe(201);
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'taken' } });
    const duplicate = await controller.call('POST', '/v2/apps/', { token: bob, body: { id: 'taken' } });
    expect(duplicate.status).toBe(400);
    expect(duplicate.json).toEqual({ id: ['Application with this id already exists.'] });
  });

  it('lists what the caller may see, sorted by id: own apps, shared apps, and all for an admin', async () => {
    const admin = await controller.user('root', { admin: true });
    for (const id of ['zeta', 'alpha']) await controller.call('POST', '/v2/apps/', { token: alice, body: { id } });
    await controller.call('POST', '/v2/apps/', { token: bob, body: { id: 'bobs' } });
    const { db } = controller.deps;
    const zeta = await db.selectFrom('apps').select('uuid').where('id', '=', 'zeta').executeTakeFirstOrThrow();
    const bobRow = await db.selectFrom('users').select('id').where('username', '=', 'bob').executeTakeFirstOrThrow();
    await db.insertInto('perms').values({ app_uuid: zeta.uuid, user_id: bobRow.id, created: new Date().toISOString() }).execute();

    const ids = async (token: string) => ((await controller.call('GET', '/v2/apps/', { token })).json as { results: { id: string }[] }).results.map((a) => a.id);
    expect(await ids(alice)).toEqual(['alpha', 'zeta']);
    expect(await ids(bob)).toEqual(['bobs', 'zeta']);
    expect(await ids(admin)).toEqual(['alpha', 'bobs', 'zeta']);
  });

  it('pages the list with count, next and previous', async () => {
    for (const id of ['a1', 'a2', 'a3']) await controller.call('POST', '/v2/apps/', { token: alice, body: { id } });
    const page = (await controller.call('GET', '/v2/apps/?limit=2&offset=1', { token: alice })).json as { count: number; next: string | null; previous: string | null; results: { id: string }[] };
    expect(page.count).toBe(3);
    expect(page.results.map((a) => a.id)).toEqual(['a2', 'a3']);
    expect(page.next).toBeNull();
    expect(page.previous).toContain('limit=2');
  });

  it('shows an app to its users only: 404 for an unknown app, 403 for a stranger', async () => {
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    expect((await controller.call('GET', '/v2/apps/myapp/', { token: alice })).json).toMatchObject({ id: 'myapp', owner: 'alice' });
    expect((await controller.call('GET', '/v2/apps/myapp', { token: alice })).status).toBe(200);
    const stranger = await controller.call('GET', '/v2/apps/myapp/', { token: bob });
    expect(stranger.status).toBe(403);
    const unknown = await controller.call('GET', '/v2/apps/nothing/', { token: alice });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toBe('No App matches the given query.');
  });

  it('answers PATCH and PUT with 405', async () => {
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const response = await controller.call('PATCH', '/v2/apps/myapp/', { token: alice, body: {} });
    expect(response.status).toBe(405);
    expect(response.json).toEqual({ detail: 'Method "PATCH" not allowed.' });
    expect((await controller.call('PUT', '/v2/apps/myapp/', { token: alice, body: {} })).status).toBe(405);
  });

  it('transfers an app with its rows to a new owner; collaborators may not', async () => {
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const { db } = controller.deps;
    const app = await db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
    const carol = await controller.user('carol');
    const carolRow = await db.selectFrom('users').select('id').where('username', '=', 'carol').executeTakeFirstOrThrow();
    await db.insertInto('perms').values({ app_uuid: app.uuid, user_id: carolRow.id, created: new Date().toISOString() }).execute();
    expect((await controller.call('POST', '/v2/apps/myapp/', { token: carol, body: { owner: 'carol' } })).status).toBe(403);
    expect((await controller.call('POST', '/v2/apps/myapp/', { token: alice, body: { owner: 'nobody' } })).status).toBe(404);

    const response = await controller.call('POST', '/v2/apps/myapp/', { token: alice, body: { owner: 'bob' } });
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    expect((await controller.call('GET', '/v2/apps/myapp/', { token: bob })).json).toMatchObject({ owner: 'bob' });
    expect((await controller.call('GET', '/v2/apps/myapp/', { token: alice })).status).toBe(403);
    const bobRow = await db.selectFrom('users').select('id').where('username', '=', 'bob').executeTakeFirstOrThrow();
    for (const table of ['releases', 'configs', 'domains', 'tls', 'app_settings'] as const) {
      const owners = await db.selectFrom(table).select('owner_id').where('app_uuid', '=', app.uuid).execute();
      expect(owners.every((o) => o.owner_id === bobRow.id), table).toBe(true);
    }
  });

  it('lets the owner or an admin destroy an app, removing its containers and rows; not a collaborator', async () => {
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const { db } = controller.deps;
    const app = await db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
    const bobRow = await db.selectFrom('users').select('id').where('username', '=', 'bob').executeTakeFirstOrThrow();
    await db.insertInto('perms').values({ app_uuid: app.uuid, user_id: bobRow.id, created: new Date().toISOString() }).execute();
    expect((await controller.call('DELETE', '/v2/apps/myapp/', { token: bob })).status).toBe(403);

    const response = await controller.call('DELETE', '/v2/apps/myapp/', { token: alice });
    expect(response.status).toBe(204);
    expect(formation.removeAppContainers).toHaveBeenCalledWith(controller.deps, 'myapp');
    expect((await controller.call('GET', '/v2/apps/myapp/', { token: alice })).status).toBe(404);
    for (const table of ['releases', 'configs', 'domains', 'tls', 'app_settings', 'perms'] as const) {
      expect(await db.selectFrom(table).selectAll().where('app_uuid', '=', app.uuid).execute(), table).toEqual([]);
    }

    const admin = await controller.user('root', { admin: true });
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'other' } });
    expect((await controller.call('DELETE', '/v2/apps/other/', { token: admin })).status).toBe(204);
  });
});
