import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cert, Page } from '@deis/sdk/types';
import { createTestApp, shareTestApp, startWithAlicesApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';
import { makeTestCertificate } from './test-certificates.ts';
import type { TestCertificate } from './test-certificates.ts';

describe('/v2/certs', () => {
  let site: TestCertificate;
  let wildcard: TestCertificate;
  beforeAll(async () => {
    [site, wildcard] = await Promise.all([
      makeTestCertificate({ subject: '/CN=www.example.com', san: ['www.example.com', 'example.com'] }),
      makeTestCertificate({ subject: '/CN=*.example.com' }),
    ]);
  });

  let controller: TestController;
  let alice: string;
  let appUuid: string;
  beforeEach(async () => {
    ({ controller, alice, appUuid } = await startWithAlicesApp());
  });
  afterEach(async () => controller.close());

  const add = (name: string, pair: TestCertificate, token = alice) => controller.call('POST', '/v2/certs/', { token, body: { name, certificate: pair.certificate, key: pair.key } });
  const addDomain = (domain: string, token = alice, app = 'myapp') => controller.call('POST', `/v2/apps/${app}/domains/`, { token, body: { domain } });
  const get = async (name: string, token = alice) => controller.call('GET', `/v2/certs/${name}`, { token });

  it('adds a certificate (201) with the derived fields and never shows the certificate or key', async () => {
    // common_name and san are derived; what a client sends for them is ignored.
    const response = await controller.call('POST', '/v2/certs/', { token: alice, body: { name: 'www-example', certificate: site.certificate, key: site.key, common_name: 'evil.example.net', san: ['evil.example.net'] } });
    expect(response.status).toBe(201);
    const cert = response.json as Cert;
    expect(Object.keys(cert).sort()).toEqual(['common_name', 'created', 'domains', 'expires', 'fingerprint', 'id', 'issuer', 'name', 'owner', 'san', 'starts', 'subject', 'updated']);
    expect(cert).toMatchObject({ name: 'www-example', owner: 'alice', common_name: 'www.example.com', san: ['www.example.com', 'example.com'], domains: [], issuer: '/CN=www.example.com', subject: '/CN=www.example.com' });
    expect(typeof cert.id).toBe('number');
    expect(cert.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(cert.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(response.body).not.toContain('PRIVATE KEY');
    expect((await get('www-example')).json).toEqual(cert);
  });

  it('validates the name and the PEM, reporting every bad field', async () => {
    const badName = await add('Bad_Name', site);
    expect(badName.status).toBe(400);
    expect(badName.json).toEqual({ name: ['Can only contain a-z (lowercase), 0-9 and hyphens'] });
    const both = await controller.call('POST', '/v2/certs/', { token: alice, body: { name: 'x', certificate: 'garbage', key: site.key } });
    expect(both.status).toBe(400);
    expect((both.json as { certificate: string[] }).certificate[0]).toMatch(/^Could not load certificate: /);
    const all = await controller.call('POST', '/v2/certs/', { token: alice, body: { name: 'UPPER', certificate: 'garbage', key: 'garbage' } });
    expect(Object.keys(all.json as object).sort()).toEqual(['certificate', 'key', 'name']);
    const mismatch = await controller.call('POST', '/v2/certs/', { token: alice, body: { name: 'mix', certificate: site.certificate, key: wildcard.key } });
    expect(mismatch.json).toEqual({ key: ['The private key does not match the certificate.'] });
    expect((await controller.call('POST', '/v2/certs/', { token: alice, body: {} })).json).toEqual({ name: ['This field is required.'], certificate: ['This field is required.'], key: ['This field is required.'] });
    expect(((await controller.call('GET', '/v2/certs/', { token: alice })).json as Page<Cert>).count).toBe(0);
  });

  it('refuses a name already taken, by anyone', async () => {
    const bob = await controller.user('bob');
    expect((await add('shared', site)).status).toBe(201);
    const again = await add('shared', wildcard, bob);
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ name: ['Certificate with this name already exists.'] });
  });

  it('lists only the caller\'s own certificates, by name, with pagination; others\' are 404', async () => {
    const bob = await controller.user('bob');
    await add('zeta', site);
    await add('alpha', wildcard);
    await add('bobs', site, bob);
    const page = (await controller.call('GET', '/v2/certs/?limit=1', { token: alice })).json as Page<Cert>;
    expect(page.count).toBe(2);
    expect(page.results.map((c) => c.name)).toEqual(['alpha']);
    expect(page.next).toMatch(/\/v2\/certs\/\?limit=1&offset=1$/);
    const all = (await controller.call('GET', '/v2/certs/?limit=0', { token: alice })).json as Page<Cert>;
    expect(all.results.map((c) => c.name)).toEqual(['alpha', 'zeta']);
    const foreign = await get('bobs');
    expect(foreign.status).toBe(404);
    expect(foreign.json).toBe('No Certificate matches the given query.');
    expect((await controller.call('DELETE', '/v2/certs/bobs', { token: alice })).status).toBe(404);
    expect((await controller.call('GET', '/v2/certs/')).status).toBe(401);
  });

  it('refuses PUT and PATCH with 405', async () => {
    await add('www-example', site);
    for (const method of ['PUT', 'PATCH']) {
      const response = await controller.call(method, '/v2/certs/www-example', { token: alice, body: { name: 'x' } });
      expect(response.status).toBe(405);
      expect(response.json).toEqual({ detail: `Method "${method}" not allowed.` });
    }
  });

  it('attaches to a domain (201), shows it, refuses a second certificate (409), and detaches (204)', async () => {
    await add('www-example', site);
    await add('wild', wildcard);
    await addDomain('www.example.com');
    const before = controller.deps.routing.generation;
    const attached = await controller.call('POST', '/v2/certs/www-example/domain/', { token: alice, body: { domain: 'WWW.example.com.' } });
    expect(attached.status).toBe(201);
    expect(attached.body).toBe('');
    expect(controller.deps.routing.generation).toBeGreaterThan(before);
    expect(((await get('www-example')).json as Cert).domains).toEqual(['www.example.com']);
    const second = await controller.call('POST', '/v2/certs/wild/domain/www.example.com', { token: alice });
    expect(second.status).toBe(409);
    expect(second.json).toEqual({ detail: 'Domain already has a certificate attached to it' });
    expect((await controller.call('DELETE', '/v2/certs/wild/domain/www.example.com', { token: alice })).status).toBe(404);
    const detached = await controller.call('DELETE', '/v2/certs/www-example/domain/www.example.com', { token: alice });
    expect(detached.status).toBe(204);
    expect(((await get('www-example')).json as Cert).domains).toEqual([]);
    expect((await controller.call('POST', '/v2/certs/wild/domain/www.example.com', { token: alice })).status).toBe(201);
  });

  it('answers attach errors: no domain given 400, unknown domain or certificate 404, someone else\'s app 403', async () => {
    const bob = await controller.user('bob');
    await createTestApp(controller, 'bob', 'bobapp');
    await addDomain('bob.example.org', bob, 'bobapp');
    await add('www-example', site);
    const noDomain = await controller.call('POST', '/v2/certs/www-example/domain/', { token: alice, body: {} });
    expect(noDomain.status).toBe(400);
    expect(noDomain.json).toEqual({ detail: 'domain is a required field' });
    const unknown = await controller.call('POST', '/v2/certs/www-example/domain/', { token: alice, body: { domain: 'nowhere.example.com' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toBe('No Domain matches the given query.');
    const noCert = await controller.call('POST', '/v2/certs/nothing/domain/', { token: alice, body: { domain: 'myapp' } });
    expect(noCert.json).toBe('No Certificate matches the given query.');
    expect((await controller.call('POST', '/v2/certs/www-example/domain/', { token: alice, body: { domain: 'bob.example.org' } })).status).toBe(403);
    await shareTestApp(controller, (await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'bobapp').executeTakeFirstOrThrow()).uuid, 'alice');
    expect((await controller.call('POST', '/v2/certs/www-example/domain/', { token: alice, body: { domain: 'bob.example.org' } })).status).toBe(201);
  });

  it('deleting a certificate detaches it from its domains (204); deleting a domain leaves the certificate', async () => {
    await add('www-example', site);
    await addDomain('www.example.com');
    await addDomain('example.com');
    await controller.call('POST', '/v2/certs/www-example/domain/www.example.com', { token: alice });
    await controller.call('POST', '/v2/certs/www-example/domain/example.com', { token: alice });
    expect(((await get('www-example')).json as Cert).domains).toEqual(['example.com', 'www.example.com']);
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/example.com', { token: alice })).status).toBe(204);
    expect(((await get('www-example')).json as Cert).domains).toEqual(['www.example.com']);
    const before = controller.deps.routing.generation;
    expect((await controller.call('DELETE', '/v2/certs/www-example', { token: alice })).status).toBe(204);
    expect(controller.deps.routing.generation).toBeGreaterThan(before);
    expect((await get('www-example')).status).toBe(404);
    const domain = await controller.deps.db.selectFrom('domains').select('cert_id').where('domain', '=', 'www.example.com').where('app_uuid', '=', appUuid).executeTakeFirstOrThrow();
    expect(domain.cert_id).toBeNull();
  });
});
