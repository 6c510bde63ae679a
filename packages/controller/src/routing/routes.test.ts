import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RoutingTable } from '@deis/sdk/types';
import { storeTime } from '../clock.ts';
import { DEFAULT_SETTINGS, insertSettings, latestSettings } from '../settings/settings-store.ts';
import type { SettingsValues } from '../settings/settings-store.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { insertTls, latestTls } from '../tls/tls-store.ts';
import { ROUTING_INSTANCE_HEADER } from './routes.ts';
import { fullHostName, useUpstreamSource } from './routing-table.ts';

let controller: TestController;
let ownerId: number;
let clock = Date.parse('2026-01-01T00:00:00.000Z');
/** Strictly increasing times, so "newest row" is well defined however fast the test runs. */
const nextTime = () => storeTime(new Date((clock += 1000)));

async function insertApp(id: string): Promise<string> {
  const uuid = randomUUID();
  const now = nextTime();
  await controller.deps.db.insertInto('apps').values({ uuid, id, owner_id: ownerId, structure: '{}', created: now, updated: now }).execute();
  return uuid;
}

/** A new settings version, as the settings endpoint stores it, without the endpoint's notice to the routing table. */
async function changeSettings(appUuid: string, values: Partial<SettingsValues>): Promise<void> {
  const { db } = controller.deps;
  await insertSettings(db, appUuid, ownerId, { ...DEFAULT_SETTINGS, ...values }, await latestSettings(db, appUuid));
}

async function changeTls(appUuid: string, httpsEnforced: boolean | null): Promise<void> {
  const { db } = controller.deps;
  await insertTls(db, appUuid, ownerId, httpsEnforced, await latestTls(db, appUuid));
}

async function insertCert(name: string): Promise<number> {
  const now = nextTime();
  const row = await controller.deps.db
    .insertInto('certs')
    .values({
      owner_id: ownerId,
      name,
      certificate: `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`,
      key: `-----BEGIN PRIVATE KEY-----\n${name}\n-----END PRIVATE KEY-----\n`,
      common_name: null,
      san: '[]',
      fingerprint: name,
      expires: now,
      starts: now,
      issuer: '',
      subject: '',
      created: now,
      updated: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function insertDomain(appUuid: string, domain: string, certId: number | null = null): Promise<void> {
  const now = nextTime();
  await controller.deps.db
    .insertInto('domains')
    .values({ uuid: randomUUID(), app_uuid: appUuid, owner_id: ownerId, domain, cert_id: certId, created: now, updated: now })
    .execute();
}

async function table(after = 0): Promise<RoutingTable> {
  const response = await controller.call('GET', `/v2/hooks/routes?after=${after}`, { builder: true });
  expect(response.status).toBe(200);
  return response.json as RoutingTable;
}

beforeEach(async () => {
  controller = await startTestController({ platformDomain: 'example.test', port: 8123 });
  await controller.user('owner');
  ownerId = (await controller.deps.db.selectFrom('users').select('id').where('username', '=', 'owner').executeTakeFirstOrThrow()).id;
});
afterEach(async () => controller.close());

describe('GET /v2/hooks/routes', () => {
  it('needs the builder key: 401 without credentials, 403 with a user token or a wrong key', async () => {
    expect((await controller.call('GET', '/v2/hooks/routes')).status).toBe(401);
    const token = await controller.user('someone');
    expect((await controller.call('GET', '/v2/hooks/routes', { token })).status).toBe(403);
    expect((await controller.call('GET', '/v2/hooks/routes', { headers: { 'x-deis-builder-auth': 'wrong-key-0123456789' } })).status).toBe(403);
  });

  it('answers at once with the platform routes and no apps on a fresh controller', async () => {
    const response = await controller.call('GET', '/v2/hooks/routes?after=0', { builder: true });
    expect(response.status).toBe(200);
    expect(response.headers[ROUTING_INSTANCE_HEADER]).toMatch(/^[0-9a-f]{16}$/);
    expect(response.json).toEqual({
      generation: controller.deps.routing.generation,
      platformDomain: 'example.test',
      controller: { host: '127.0.0.1', port: 8123 },
      builder: null,
      apps: [],
    });
  });

  it('routes the builder when one is configured', async () => {
    await controller.close();
    controller = await startTestController({ builderHttpUpstream: { host: '127.0.0.1', port: 8001 } });
    expect((await table()).builder).toEqual({ host: '127.0.0.1', port: 8001 });
  });

  it('routes the platform name to the controller upstream given, an address edge routers on other hosts reach', async () => {
    await controller.close();
    controller = await startTestController({ controllerUpstream: { host: '100.124.0.11', port: 8000 } });
    expect((await table()).controller).toEqual({ host: '100.124.0.11', port: 8000 });
  });

  it('lists every app with its own host name, custom and wildcard domains, defaults for settings and TLS', async () => {
    const web = await insertApp('web');
    await insertApp('api');
    await insertDomain(web, 'web');
    await insertDomain(web, 'www.Example.com.');
    await insertDomain(web, '*.example.org');
    const result = await table();
    expect(result.apps.map((a) => a.app)).toEqual(['api', 'web']);
    expect(result.apps[1]).toEqual({
      app: 'web',
      domains: ['web.example.test', '*.example.org', 'www.example.com'],
      upstreams: [],
      maintenance: false,
      whitelist: [],
      httpsEnforced: false,
      certificates: {},
    });
  });

  it('takes the newest settings and TLS rows, and leaves out apps that are not routable', async () => {
    const web = await insertApp('web');
    const hidden = await insertApp('hidden');
    await changeSettings(web, { maintenance: false, whitelist: [] });
    await changeSettings(web, { maintenance: true, whitelist: ['127.0.0.1', '10.1.0.0/16'] });
    await changeTls(web, null);
    await changeTls(web, true);
    await changeSettings(hidden, { routable: true });
    await changeSettings(hidden, { routable: false });
    const result = await table();
    expect(result.apps).toHaveLength(1);
    expect(result.apps[0]).toMatchObject({ app: 'web', maintenance: true, whitelist: ['127.0.0.1', '10.1.0.0/16'], httpsEnforced: true });
  });

  it('gives each domain with an attached certificate its certificate and key', async () => {
    const web = await insertApp('web');
    const certId = await insertCert('www-cert');
    await insertDomain(web, 'www.example.com', certId);
    await insertDomain(web, 'plain.example.com');
    const [route] = (await table()).apps;
    expect(Object.keys(route?.certificates ?? {})).toEqual(['www.example.com']);
    expect(route?.certificates['www.example.com']).toEqual({
      name: 'www-cert',
      certificate: '-----BEGIN CERTIFICATE-----\nwww-cert\n-----END CERTIFICATE-----\n',
      key: '-----BEGIN PRIVATE KEY-----\nwww-cert\n-----END PRIVATE KEY-----\n',
    });
  });

  it('asks the upstream source for each app', async () => {
    await insertApp('web');
    useUpstreamSource(controller.deps, async (_deps, app) => [{ host: '100.64.0.9', port: app.id.length * 1000 }]);
    expect((await table()).apps[0]?.upstreams).toEqual([{ host: '100.64.0.9', port: 3000 }]);
  });

  it('waits for a change when the router is up to date, then answers with the new table', async () => {
    const current = controller.deps.routing.generation;
    const started = Date.now();
    const poll = controller.call('GET', `/v2/hooks/routes?after=${current}`, { builder: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await insertApp('late');
    controller.deps.routing.changed();
    const response = await poll;
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const result = response.json as RoutingTable;
    expect(result.generation).toBe(current + 1);
    expect(result.apps.map((a) => a.app)).toEqual(['late']);
  });

  it('answers 204 when nothing changed within the wait', async () => {
    const current = controller.deps.routing.generation;
    const started = Date.now();
    const response = await controller.call('GET', `/v2/hooks/routes?after=${current}&wait=1`, { builder: true });
    expect(response.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers at once, even with an old generation, a router that last saw another run of the controller', async () => {
    const response = await controller.call('GET', '/v2/hooks/routes?after=999&instance=0123456789abcdef', { builder: true });
    expect(response.status).toBe(200);
    expect((response.json as RoutingTable).generation).toBe(controller.deps.routing.generation);
    const instance = String(response.headers[ROUTING_INSTANCE_HEADER]);
    const same = await controller.call('GET', `/v2/hooks/routes?after=999&instance=${instance}&wait=0`, { builder: true });
    expect(same.status).toBe(204);
  });

  it('answers a waiting poll when the controller closes, so closing does not wait it out', async () => {
    const poll = controller.call('GET', `/v2/hooks/routes?after=${controller.deps.routing.generation}`, { builder: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await controller.app.close();
    expect((await poll).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses a generation that is not a whole number', async () => {
    const response = await controller.call('GET', '/v2/hooks/routes?after=abc', { builder: true });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ after: ['A valid integer is required.'] });
  });
});

describe('POST /v2/hooks/routes/applied', () => {
  it('records what the router applied, which releases a deploy waiting for it', async () => {
    const generation = controller.deps.routing.changed();
    // Before any router reported, nothing waits.
    expect(await controller.deps.routing.waitApplied(generation, 10)).toBe(true);
    await controller.call('POST', '/v2/hooks/routes/applied', { builder: true, body: { generation: generation - 1 } });
    const next = controller.deps.routing.changed();
    const waiting = controller.deps.routing.waitApplied(next, 5000);
    const response = await controller.call('POST', '/v2/hooks/routes/applied', { builder: true, body: { generation: next } });
    expect(response.status).toBe(204);
    expect(await waiting).toBe(true);
    expect(controller.deps.routing.applied).toBe(next);
  });

  it('needs the builder key and a generation', async () => {
    expect((await controller.call('POST', '/v2/hooks/routes/applied', { body: { generation: 1 } })).status).toBe(401);
    const missing = await controller.call('POST', '/v2/hooks/routes/applied', { builder: true, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ generation: ['This field is required.'] });
    expect((await controller.call('POST', '/v2/hooks/routes/applied', { builder: true, body: { generation: -1 } })).status).toBe(400);
  });
});

describe('fullHostName', () => {
  it('puts bare names under the platform domain and keeps full names, trailing dot and case aside', () => {
    expect(fullHostName('web', 'example.test')).toBe('web.example.test');
    expect(fullHostName('WWW.Example.com.', 'example.test')).toBe('www.example.com');
    expect(fullHostName('*.example.org', 'example.test')).toBe('*.example.org');
  });
});
