/**
 * The authorization matrix: every route the controller registers, called by each kind of caller (anonymous, a user
 * with no part in the app, a collaborator, the owner, an admin, the builder's key), answers the status the Deis v2
 * contract gives (§1.1 Roles, §1.2 Auth column) and this controller's conventions (CONTRIBUTING.md: authenticated
 * unless `config.auth` says otherwise; under `/v2/apps/{app}/` an unknown app is 404, then owner, collaborator except
 * DELETE, admin). The routes come from the route table itself, so a route added without an entry here fails the test.
 * A refused request must also leave the store as it was.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whenAppIdle } from '../formation/formation-state.ts';
import { dumpStore, storeChanges } from '../testing/store-dump.ts';
import { newPublicKey, TENANT_PASSWORD, TenantFactory } from '../testing/tenant-fixture.ts';
import type { Tenants } from '../testing/tenant-fixture.ts';
import { registeredRoutes } from '../testing/registered-routes.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

const ROLES = ['anonymous', 'other', 'collaborator', 'owner', 'admin', 'builder'] as const;
type Role = (typeof ROLES)[number];
type Statuses = Record<Role, number>;

interface Entry {
  url: (t: Tenants) => string;
  /** The role is there so that each caller's request differs (a second identical change would be a 409). */
  body?: (t: Tenants, role: Role) => unknown;
  expect: Statuses;
  /** One caller's success takes away what the next one's needs (a deletion, an attachment): each gets fresh tenants. */
  destroys?: true;
}

/** Anyone, with or without credentials (health checks, login, registration while it is enabled). */
const open = (status: number): Statuses => ({ anonymous: status, other: status, collaborator: status, owner: status, admin: status, builder: status });
/** Any user's token; the builder key is not a user (401 as no credentials). */
const anyUser = (status: number, overrides: Partial<Statuses> = {}): Statuses => ({ ...open(status), anonymous: 401, builder: 401, ...overrides });
const adminOnly = (status: number): Statuses => anyUser(403, { admin: status });
/** `loadApp` with level `use`: admin, owner and collaborator (not for DELETE); anyone else 403. */
const appUser = (status: number): Statuses => anyUser(status, { other: 403 });
/** Owner or admin only: DELETE, sharing, transfer. */
const appOwner = (status: number): Statuses => anyUser(status, { other: 403, collaborator: 403 });
/** Keys and certificates are their owner's alone: anyone else, admins too, is told they do not exist. */
const ownersOnly = (status: number): Statuses => anyUser(404, { owner: status });
/** The builder's hooks: no credentials 401, a user's token 403 (contract §1.1 Builder auth). */
const builderOnly = (status: number): Statuses => ({ ...open(403), anonymous: 401, builder: status });

const app = (t: Tenants) => `/v2/apps/${t.app}`;

/** Keyed by method and the path as registered; a HEAD route is checked with its GET's entry. */
const MATRIX: Record<string, Entry> = {
  'GET /healthz': { url: () => '/healthz', expect: open(200) },
  'GET /readiness': { url: () => '/readiness', expect: open(200) },
  'GET /v2/': { url: () => '/v2/', expect: anyUser(200) },

  'POST /v2/auth/register': {
    url: () => '/v2/auth/register/',
    body: (t, role) => ({ username: `new-${role}-${t.suffix}`, password: 'a-new-password', email: `new-${t.suffix}@example.test` }),
    expect: open(201),
  },
  'POST /v2/auth/login': { url: () => '/v2/auth/login/', body: (t) => ({ username: t.owner.username, password: TENANT_PASSWORD }), expect: open(200) },
  'GET /v2/auth/whoami': { url: () => '/v2/auth/whoami/', expect: anyUser(200) },
  'POST /v2/auth/passwd': { url: () => '/v2/auth/passwd/', body: () => ({ password: TENANT_PASSWORD, new_password: 'a-new-password' }), expect: anyUser(200) },
  // The owner still owns the app and a certificate (contract: 409 "still has applications assigned").
  'DELETE /v2/auth/cancel': { url: () => '/v2/auth/cancel/', expect: anyUser(204, { owner: 409 }) },
  'POST /v2/auth/tokens': { url: () => '/v2/auth/tokens/', expect: anyUser(200) },

  'GET /v2/users': { url: () => '/v2/users/', expect: adminOnly(200) },
  'GET /v2/admin/perms': { url: () => '/v2/admin/perms/', expect: adminOnly(200) },
  'POST /v2/admin/perms': { url: () => '/v2/admin/perms/', body: (t) => ({ username: t.other.username }), expect: adminOnly(201) },
  'DELETE /v2/admin/perms/:username': { url: (t) => `/v2/admin/perms/${t.spareAdmin.username}`, expect: adminOnly(204), destroys: true },

  'GET /v2/keys': { url: () => '/v2/keys/', expect: anyUser(200) },
  'POST /v2/keys': { url: () => '/v2/keys/', body: (t, role) => ({ id: `new-${role}-${t.suffix}`, public: newPublicKey() }), expect: anyUser(201) },
  'GET /v2/keys/:id': { url: (t) => `/v2/keys/${t.key}`, expect: ownersOnly(200) },
  'DELETE /v2/keys/:id': { url: (t) => `/v2/keys/${t.key}`, expect: ownersOnly(204), destroys: true },

  'GET /v2/apps/': { url: () => '/v2/apps/', expect: anyUser(200) },
  'POST /v2/apps/': { url: () => '/v2/apps/', body: (t, role) => ({ id: `new-${role}-${t.suffix}` }), expect: anyUser(201) },
  'GET /v2/apps/:id/': { url: (t) => `${app(t)}/`, expect: appUser(200) },
  'POST /v2/apps/:id/': { url: (t) => `${app(t)}/`, body: (t) => ({ owner: t.other.username }), expect: appOwner(200), destroys: true },
  'DELETE /v2/apps/:id/': { url: (t) => `${app(t)}/`, expect: appOwner(204), destroys: true },
  // DRF answers an unsupported method before it looks at the app or the caller's part in it.
  'PATCH /v2/apps/:id/': { url: (t) => `${app(t)}/`, body: () => ({}), expect: anyUser(405) },
  'PUT /v2/apps/:id/': { url: (t) => `${app(t)}/`, body: () => ({}), expect: anyUser(405) },

  'GET /v2/apps/:app/perms': { url: (t) => `${app(t)}/perms/`, expect: appUser(200) },
  'POST /v2/apps/:app/perms': { url: (t) => `${app(t)}/perms/`, body: (t) => ({ username: t.other.username }), expect: appOwner(201), destroys: true },
  // A collaborator may remove themself (the target here), though it is a DELETE.
  'DELETE /v2/apps/:app/perms/:username': { url: (t) => `${app(t)}/perms/${t.collaborator.username}`, expect: appUser(204), destroys: true },

  'GET /v2/apps/:id/pods': { url: (t) => `${app(t)}/pods/`, expect: appUser(200) },
  'GET /v2/apps/:id/pods/:type': { url: (t) => `${app(t)}/pods/web/`, expect: appUser(200) },
  'GET /v2/apps/:id/pods/:type/:name': { url: (t) => `${app(t)}/pods/web/${t.pod}/`, expect: appUser(200) },
  'POST /v2/apps/:id/pods/restart': { url: (t) => `${app(t)}/pods/restart/`, expect: appUser(200) },
  'POST /v2/apps/:id/pods/:type/restart': { url: (t) => `${app(t)}/pods/web/restart/`, expect: appUser(200) },
  'POST /v2/apps/:id/pods/:type/:name/restart': { url: (t) => `${app(t)}/pods/web/${t.pod}/restart/`, expect: appUser(200) },
  'POST /v2/apps/:id/scale': { url: (t) => `${app(t)}/scale/`, body: () => ({ web: 2 }), expect: appUser(204) },
  'POST /v2/apps/:id/run': { url: (t) => `${app(t)}/run`, body: () => ({ command: 'true' }), expect: appUser(200) },
  'GET /v2/apps/:id/logs': { url: (t) => `${app(t)}/logs`, expect: appUser(200) },

  'GET /v2/apps/:id/config/': { url: (t) => `${app(t)}/config/`, expect: appUser(200) },
  'POST /v2/apps/:id/config/': { url: (t) => `${app(t)}/config/`, body: (_t, role) => ({ values: { MATRIX: role } }), expect: appUser(201) },
  'GET /v2/apps/:id/builds/': { url: (t) => `${app(t)}/builds/`, expect: appUser(200) },
  'POST /v2/apps/:id/builds/': { url: (t) => `${app(t)}/builds/`, body: () => ({ image: 'example/tenant:2' }), expect: appUser(201) },
  'GET /v2/apps/:id/builds/:uuid/': { url: (t) => `${app(t)}/builds/${t.buildUuid}/`, expect: appUser(200) },
  'GET /v2/apps/:id/releases/': { url: (t) => `${app(t)}/releases/`, expect: appUser(200) },
  'GET /v2/apps/:id/releases/v:version/': { url: (t) => `${app(t)}/releases/v2/`, expect: appUser(200) },
  'POST /v2/apps/:id/releases/rollback/': { url: (t) => `${app(t)}/releases/rollback/`, expect: appUser(201) },

  'GET /v2/apps/:app/domains': { url: (t) => `${app(t)}/domains/`, expect: appUser(200) },
  'POST /v2/apps/:app/domains': { url: (t) => `${app(t)}/domains/`, body: (t, role) => ({ domain: `new-${role}-${t.suffix}.example.org` }), expect: appUser(201) },
  'DELETE /v2/apps/:app/domains/:domain': { url: (t) => `${app(t)}/domains/${t.freeDomain}`, expect: appOwner(204), destroys: true },
  'GET /v2/apps/:app/settings': { url: (t) => `${app(t)}/settings/`, expect: appUser(200) },
  'POST /v2/apps/:app/settings': { url: (t) => `${app(t)}/settings/`, body: (_t, role) => ({ label: { matrix: role } }), expect: appUser(201) },
  'GET /v2/apps/:app/whitelist': { url: (t) => `${app(t)}/whitelist/`, expect: appUser(200) },
  'POST /v2/apps/:app/whitelist': { url: (t) => `${app(t)}/whitelist/`, body: (_t, role) => ({ addresses: [`192.0.2.${10 + ROLES.indexOf(role)}`] }), expect: appUser(201) },
  'DELETE /v2/apps/:app/whitelist': { url: (t) => `${app(t)}/whitelist/`, body: (t) => ({ addresses: [t.whitelisted] }), expect: appOwner(204), destroys: true },
  'GET /v2/apps/:app/tls': { url: (t) => `${app(t)}/tls/`, expect: appUser(200) },
  'POST /v2/apps/:app/tls': { url: (t) => `${app(t)}/tls/`, body: () => ({ https_enforced: true }), expect: appUser(201), destroys: true },

  'GET /v2/certs': { url: () => '/v2/certs/', expect: anyUser(200) },
  'POST /v2/certs': { url: () => '/v2/certs/', body: (t, role) => ({ name: `new-${role}-${t.suffix}`, ...factory.certificate }), expect: anyUser(201) },
  'GET /v2/certs/:name': { url: (t) => `/v2/certs/${t.cert}`, expect: ownersOnly(200) },
  'DELETE /v2/certs/:name': { url: (t) => `/v2/certs/${t.cert}`, expect: ownersOnly(204), destroys: true },
  'PUT /v2/certs/:name': { url: (t) => `/v2/certs/${t.cert}`, body: () => ({}), expect: anyUser(405) },
  'PATCH /v2/certs/:name': { url: (t) => `/v2/certs/${t.cert}`, body: () => ({}), expect: anyUser(405) },
  'POST /v2/certs/:name/domain': { url: (t) => `/v2/certs/${t.cert}/domain/`, body: (t) => ({ domain: t.freeDomain }), expect: ownersOnly(201), destroys: true },
  'POST /v2/certs/:name/domain/:domain': { url: (t) => `/v2/certs/${t.cert}/domain/${t.freeDomain}`, expect: ownersOnly(201), destroys: true },
  'DELETE /v2/certs/:name/domain/:domain': { url: (t) => `/v2/certs/${t.cert}/domain/${t.domain}`, expect: ownersOnly(204), destroys: true },

  'GET /v2/hooks/key/:fingerprint': { url: (t) => `/v2/hooks/key/${t.keyFingerprint}`, expect: builderOnly(200) },
  'GET /v2/hooks/keys/:app': { url: (t) => `/v2/hooks/keys/${t.app}`, expect: builderOnly(200) },
  'GET /v2/hooks/keys/:app/:username': { url: (t) => `/v2/hooks/keys/${t.app}/${t.owner.username}`, expect: builderOnly(200) },
  'POST /v2/hooks/config/': { url: () => '/v2/hooks/config/', body: (t) => ({ receive_user: t.owner.username, receive_repo: t.app }), expect: builderOnly(200) },
  'POST /v2/hooks/build/': {
    url: () => '/v2/hooks/build/',
    body: (t) => ({ receive_user: t.owner.username, receive_repo: t.app, image: 'example/tenant:3', sha: 'abc1234', procfile: { web: 'serve' }, dockerfile: 'true' }),
    expect: builderOnly(200),
  },
  'POST /v2/hooks/app/': { url: () => '/v2/hooks/app/', body: (t) => ({ receive_user: t.owner.username, receive_repo: t.app }), expect: builderOnly(200) },
  'POST /v2/hooks/image/': { url: () => '/v2/hooks/image/', body: (t) => ({ receive_user: t.owner.username, receive_repo: t.app, image: 'example/base:1' }), expect: builderOnly(200) },
  'GET /v2/hooks/routes': { url: () => '/v2/hooks/routes?after=0&wait=0', expect: builderOnly(200) },
  // Once a router has reported, deploys wait for it to apply their generation: this report is of every generation to
  // come, so that the deploys of the routes after it do not wait for a router this test does not run.
  'POST /v2/hooks/routes/applied': { url: () => '/v2/hooks/routes/applied', body: () => ({ generation: Number.MAX_SAFE_INTEGER }), expect: builderOnly(204) },

  // Interactive and detached runs (docs/runs.md) are authorised as POST /run is. A plain GET of the WebSocket endpoint
  // is refused with 426 once the caller is allowed; the upgrade itself is tested in formation/run-routes.test.ts.
  'GET /v2/apps/:id/run/attach': { url: (t) => `${app(t)}/run/attach`, expect: appUser(426) },
  'POST /v2/apps/:id/run/detached': { url: (t) => `${app(t)}/run/detached`, body: () => ({ command: 'true' }), expect: appUser(202) },
  'GET /v2/apps/:app/drains/': { url: (t) => `${app(t)}/drains/`, expect: appUser(200) },
  'POST /v2/apps/:app/drains/': { url: (t) => `${app(t)}/drains/`, body: (t, role) => ({ url: `syslog://${role}-${t.suffix}.example.com:514` }), expect: appUser(201) },
  // No such drain: who may delete is told so, anyone else is refused first.
  'DELETE /v2/apps/:app/drains/:drain': { url: (t) => `${app(t)}/drains/00000000-0000-4000-8000-000000000000`, expect: appOwner(404) },
  'DELETE /v2/apps/:app/drains/': { url: (t) => `${app(t)}/drains/`, body: () => ({ url: 'syslog://none.example.com:514' }), expect: appOwner(404) },
  'GET /v2/nodes': { url: () => '/v2/nodes/', expect: adminOnly(200) },
};

function entryOf(route: string): Entry | undefined {
  return MATRIX[route] ?? (route.startsWith('HEAD ') ? MATRIX[`GET ${route.slice(5)}`] : undefined);
}

const ROUTES = await registeredRoutes();
let controller: TestController;
let factory: TenantFactory;

function callAs(role: Role, t: Tenants, method: string, entry: Entry) {
  const body = entry.body?.(t, role);
  const options = { ...(body === undefined ? {} : { body }) };
  if (role === 'anonymous') return controller.call(method, entry.url(t), options);
  if (role === 'builder') return controller.call(method, entry.url(t), { ...options, builder: true });
  const tenant = { other: t.other, collaborator: t.collaborator, owner: t.owner, admin: t.admin }[role];
  return controller.call(method, entry.url(t), { ...options, token: tenant.token });
}

describe('authorization matrix: every route × every kind of caller', () => {
  beforeAll(async () => {
    controller = await startTestController();
    factory = await TenantFactory.create(controller);
  });
  afterAll(async () => controller?.close());

  it('has an entry for every registered route, and none for a route that is gone', () => {
    expect(ROUTES.length).toBeGreaterThan(50);
    const missing = ROUTES.filter((route) => !entryOf(route));
    expect(missing, `routes without an entry in MATRIX: ${missing.join(', ')}`).toEqual([]);
    const stale = Object.keys(MATRIX).filter((route) => !ROUTES.includes(route));
    expect(stale, 'entries without a route').toEqual([]);
  });

  // Reading routes share one set of tenants, and so does every caller of a changing route, except on a route that
  // `destroys`: there the callers expected to be refused go first, on one set whose store must not change, the first
  // caller expected to succeed uses that set too, and each further one a fresh set.
  let readingTenants: Tenants | undefined;
  it.each(ROUTES.filter((route) => entryOf(route)))('%s', async (route) => {
    const entry = entryOf(route)!;
    const method = route.split(' ')[0]!;
    const reading = method === 'GET' || method === 'HEAD';
    readingTenants ??= await factory.next();
    const shared = reading ? readingTenants : await factory.next();
    const refusedFirst = [...ROLES].sort((a, b) => Number(entry.expect[a] < 300) - Number(entry.expect[b] < 300));
    let sharedUsed = false;
    const wrong: string[] = [];
    for (const role of refusedFirst) {
      const expected = entry.expect[role];
      const succeeds = expected < 300;
      let t = shared;
      if (succeeds && entry.destroys) {
        if (sharedUsed) t = await factory.next();
        sharedUsed = true;
      }
      const before = succeeds ? undefined : await dumpStore(controller.deps.db);
      const response = await callAs(role, t, method, entry);
      await whenAppIdle(controller.deps, t.app);
      if (response.status !== expected) wrong.push(`${role}: ${response.status} (expected ${expected}) ${response.body.slice(0, 200)}`);
      if (before) {
        const changes = storeChanges(before, await dumpStore(controller.deps.db));
        if (Object.keys(changes).length > 0) wrong.push(`${role}: refused with ${response.status} but changed ${JSON.stringify(changes).slice(0, 400)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

// The matrix's certificate routes name the owner's certificate; here another tenant uses a certificate of their own on
// the owner's domains, which the matrix's callers cannot try.
describe("a tenant's own certificate on another tenant's domains", () => {
  it('cannot be attached (403) and leaves the store as it was', async () => {
    const target = await startTestController();
    try {
      const tenants = await TenantFactory.create(target);
      const t = await tenants.next();
      const mine = { name: 'intruder-cert', ...tenants.certificate };
      expect((await target.call('POST', '/v2/certs/', { token: t.other.token, body: mine })).status).toBe(201);
      const before = await dumpStore(target.deps.db);
      const byBody = await target.call('POST', '/v2/certs/intruder-cert/domain/', { token: t.other.token, body: { domain: t.freeDomain } });
      const byPath = await target.call('POST', `/v2/certs/intruder-cert/domain/${t.freeDomain}`, { token: t.other.token });
      // Detaching names the pair: the owner's certificate stays on the owner's domain.
      const detach = await target.call('DELETE', `/v2/certs/intruder-cert/domain/${t.domain}`, { token: t.other.token });
      expect([byBody.status, byPath.status, detach.status]).toEqual([403, 403, 404]);
      expect(storeChanges(before, await dumpStore(target.deps.db))).toEqual({});
    } finally {
      await target.close();
    }
  });
});

// The matrix's builder calls push as the owner; the builder key proves only that the builder calls, so the pusher named
// in the body must still be allowed to use the app.
describe('builder hooks acting for a user', () => {
  it('serve an app user (collaborator included) and refuse anyone else with 403, storing nothing', async () => {
    const target = await startTestController();
    try {
      const t = await (await TenantFactory.create(target)).next();
      const hooks = (user: string) => [
        target.call('POST', '/v2/hooks/config/', { builder: true, body: { receive_user: user, receive_repo: t.app } }),
        target.call('GET', `/v2/hooks/keys/${t.app}/${user}`, { builder: true }),
        target.call('POST', '/v2/hooks/app/', { builder: true, body: { receive_user: user, receive_repo: t.app } }),
        target.call('POST', '/v2/hooks/image/', { builder: true, body: { receive_user: user, receive_repo: t.app, image: 'example/base:1' } }),
      ];
      const before = await dumpStore(target.deps.db);
      expect((await Promise.all(hooks(t.other.username))).map((response) => response.status)).toEqual([403, 403, 403, 403]);
      const build = { receive_user: t.other.username, receive_repo: t.app, image: 'example/intruder:1', sha: 'abc1234' };
      expect((await target.call('POST', '/v2/hooks/build/', { builder: true, body: build })).status).toBe(403);
      expect(storeChanges(before, await dumpStore(target.deps.db))).toEqual({});
      // The collaborator has no key, so the key list of them is 404; their config and build go through.
      expect((await Promise.all(hooks(t.collaborator.username))).map((response) => response.status)).toEqual([200, 404, 200, 200]);
      expect((await target.call('POST', '/v2/hooks/build/', { builder: true, body: { ...build, receive_user: t.collaborator.username } })).status).toBe(200);
      await whenAppIdle(target.deps, t.app);
    } finally {
      await target.close();
    }
  });
});

// The matrix runs with registration enabled; the platform's default is `admin_only`, and `disabled` exists too.
describe('registration in each mode (contract §1.1 Registration mode)', () => {
  const register = (target: TestController, username: string, options: { token?: string; builder?: boolean } = {}) =>
    target.call('POST', '/v2/auth/register/', { ...options, body: { username, password: 'a-password', email: `${username}@example.test` } });

  // How the first admin comes to be is the setup's business (docs/security.md); once one exists, only an admin may.
  it('admin_only: once an admin exists, only an admin registers anyone', async () => {
    const target = await startTestController({ registrationMode: 'admin_only' });
    try {
      const user = await target.user('plain');
      const admin = await target.user('boss', { admin: true });
      expect((await register(target, 'anon')).status).toBe(403);
      expect((await register(target, 'by-user', { token: user })).status).toBe(403);
      expect((await register(target, 'by-builder', { builder: true })).status).toBe(403);
      expect((await register(target, 'by-admin', { token: admin })).status).toBe(201);
      const users = await target.deps.db.selectFrom('users').select(['username', 'is_superuser']).orderBy('username').execute();
      expect(users).toEqual([
        { username: 'boss', is_superuser: 1 },
        { username: 'by-admin', is_superuser: 0 },
        { username: 'plain', is_superuser: 0 },
      ]);
    } finally {
      await target.close();
    }
  });

  it('disabled: nobody, admins included', async () => {
    const target = await startTestController({ registrationMode: 'disabled' });
    try {
      const admin = await target.user('boss', { admin: true });
      expect((await register(target, 'anon')).status).toBe(403);
      expect((await register(target, 'by-admin', { token: admin })).status).toBe(403);
      expect(await target.deps.db.selectFrom('users').select('username').execute()).toEqual([{ username: 'boss' }]);
    } finally {
      await target.close();
    }
  });
});
