import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Domain, Page } from '@deis/sdk/types';
import { createTestApp, shareTestApp, startWithAlicesApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('/v2/apps/{app}/domains', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    ({ controller, alice } = await startWithAlicesApp());
  });
  afterEach(async () => controller.close());

  const list = async (token: string, query = '') => {
    const response = await controller.call('GET', `/v2/apps/myapp/domains/${query}`, { token });
    expect(response.status).toBe(200);
    return response.json as Page<Domain>;
  };

  it('lists the default domain (the bare app id) with the contract fields', async () => {
    const page = await list(alice);
    expect(page.count).toBe(1);
    expect(page.next).toBeNull();
    expect(page.previous).toBeNull();
    expect(Object.keys(page.results[0] ?? {}).sort()).toEqual(['app', 'created', 'domain', 'owner', 'updated']);
    expect(page.results[0]).toMatchObject({ app: 'myapp', owner: 'alice', domain: 'myapp' });
    expect(page.results[0]?.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('adds a domain (201), normalized: trailing dot stripped, lowercased, IDN as punycode', async () => {
    const added = await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'WWW.Example.com.' } });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ app: 'myapp', owner: 'alice', domain: 'www.example.com' });
    const idn = await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'bücher.example' } });
    expect(idn.status).toBe(201);
    expect((idn.json as Domain).domain).toBe('xn--bcher-kva.example');
    const wildcard = await controller.call('POST', '/v2/apps/myapp/domains', { token: alice, body: 'domain=*.wild.example.org', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wildcard.status).toBe(201);
    expect((await list(alice)).results.map((d) => d.domain)).toEqual(['*.wild.example.org', 'myapp', 'www.example.com', 'xn--bcher-kva.example']);
  });

  it('answers invalid names with the contract messages on the domain field', async () => {
    const cases: [string, string][] = [
      ['*', "Hostname can't only be a wildcard"],
      ['bad domain.com', 'Hostname does not look valid.'],
      ['a.*.example.com', 'Hostname does not look valid.'],
      [`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com`, 'Hostname must be 253 characters or less.'],
    ];
    for (const [domain, message] of cases) {
      const response = await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain } });
      expect(response.status, domain).toBe(400);
      expect(response.json).toEqual({ domain: [message] });
    }
    expect((await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: {} })).json).toEqual({ domain: ['This field is required.'] });
    expect((await list(alice)).count).toBe(1);
  });

  it('refuses a name another app (or the same app) already has', async () => {
    const bob = await controller.user('bob');
    await createTestApp(controller, 'bob', 'other');
    expect((await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'shop.example.com' } })).status).toBe(201);
    for (const [token, app, domain] of [[bob, 'other', 'Shop.Example.com.'], [alice, 'myapp', 'shop.example.com']] as const) {
      const response = await controller.call('POST', `/v2/apps/${app}/domains/`, { token, body: { domain } });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ domain: ['The domain shop.example.com is already in use by another app'] });
    }
    const taken = await controller.call('POST', '/v2/apps/other/domains/', { token: bob, body: { domain: 'myapp' } });
    expect(taken.status).toBe(400);
  });

  it('refuses names that would take a platform host: under the platform domain, or another bare name', async () => {
    for (const domain of ['deis.example.test', 'other.example.test', '*.example.test', 'example.test', 'deis']) {
      const response = await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain } });
      expect(response.status, domain).toBe(400);
      expect(Object.keys(response.json as object)).toEqual(['domain']);
    }
  });

  it('removes a domain (204) and leaves the others; a missing one is a 404 string', async () => {
    await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'a.example.com' } });
    await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'b.example.com' } });
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/A.example.com', { token: alice })).status).toBe(204);
    expect((await list(alice)).results.map((d) => d.domain)).toEqual(['b.example.com', 'myapp']);
    const missing = await controller.call('DELETE', '/v2/apps/myapp/domains/a.example.com', { token: alice });
    expect(missing.status).toBe(404);
    expect(missing.json).toBe('No Domain matches the given query.');
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/not%20valid', { token: alice })).status).toBe(404);
  });

  it('does not remove another app\'s domain through this app', async () => {
    const bob = await controller.user('bob');
    await createTestApp(controller, 'bob', 'other');
    await controller.call('POST', '/v2/apps/other/domains/', { token: bob, body: { domain: 'bob.example.com' } });
    await shareTestApp(controller, (await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow()).uuid, 'bob');
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/bob.example.com', { token: alice })).status).toBe(404);
  });

  it('finds an international domain named in the URL in either form', async () => {
    await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'bücher.example' } });
    expect((await controller.call('DELETE', `/v2/apps/myapp/domains/${encodeURIComponent('Bücher.example')}`, { token: alice })).status).toBe(204);
    await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'bücher.example' } });
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/xn--bcher-kva.example', { token: alice })).status).toBe(204);
  });

  it('serves an app made through POST /v2/apps with its default domain, settings and TLS', async () => {
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'fresh' } })).status).toBe(201);
    const domains = (await controller.call('GET', '/v2/apps/fresh/domains/', { token: alice })).json as Page<Domain>;
    expect(domains.results.map((d) => d.domain)).toEqual(['fresh']);
    expect((await controller.call('GET', '/v2/apps/fresh/settings/', { token: alice })).json).toMatchObject({ maintenance: false, routable: true, owner: 'alice' });
    expect((await controller.call('GET', '/v2/apps/fresh/tls/', { token: alice })).json).toMatchObject({ https_enforced: null, owner: 'alice' });
    expect((await controller.call('DELETE', '/v2/apps/fresh/domains/fresh', { token: alice })).status).toBe(204);
    expect((await controller.call('POST', '/v2/apps/fresh/domains/', { token: alice, body: { domain: 'fresh' } })).status).toBe(201);
  });

  it('pages by limit and offset, ordered by name', async () => {
    for (const name of ['c', 'a', 'b']) await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: `${name}.example.com` } });
    const first = await list(alice, '?limit=2');
    expect(first.count).toBe(4);
    expect(first.results.map((d) => d.domain)).toEqual(['a.example.com', 'b.example.com']);
    expect(first.next).toMatch(/\/v2\/apps\/myapp\/domains\/\?limit=2&offset=2$/);
    const second = await list(alice, '?limit=2&offset=2');
    expect(second.results.map((d) => d.domain)).toEqual(['c.example.com', 'myapp']);
    expect(second.next).toBeNull();
    expect(second.previous).not.toBeNull();
    expect((await list(alice, '?limit=0')).results).toHaveLength(4);
  });

  it('applies the app rules: 404 for an unknown app, 403 for strangers, collaborators may add but not remove', async () => {
    const carol = await controller.user('carol');
    const dave = await controller.user('dave');
    const admin = await controller.user('root', { admin: true });
    const unknown = await controller.call('GET', '/v2/apps/nope/domains/', { token: alice });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toBe('No App matches the given query.');
    expect((await controller.call('GET', '/v2/apps/myapp/domains/', { token: dave })).status).toBe(403);
    expect((await controller.call('POST', '/v2/apps/myapp/domains/', { token: dave, body: { domain: 'x.example.com' } })).status).toBe(403);
    const uuid = (await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow()).uuid;
    await shareTestApp(controller, uuid, 'carol');
    const added = await controller.call('POST', '/v2/apps/myapp/domains/', { token: carol, body: { domain: 'carol.example.com' } });
    expect(added.status).toBe(201);
    expect((added.json as Domain).owner).toBe('carol');
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/carol.example.com', { token: carol })).status).toBe(403);
    expect((await controller.call('POST', '/v2/apps/myapp/domains/', { token: admin, body: { domain: 'admin.example.com' } })).status).toBe(201);
    expect((await controller.call('DELETE', '/v2/apps/myapp/domains/carol.example.com', { token: admin })).status).toBe(204);
    expect((await controller.call('GET', '/v2/apps/myapp/domains/')).status).toBe(401);
  });

  it('marks the routing table changed on add and remove, and logs the events', async () => {
    const before = controller.deps.routing.generation;
    await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: 'r.example.com' } });
    const afterAdd = controller.deps.routing.generation;
    expect(afterAdd).toBeGreaterThan(before);
    await controller.call('DELETE', '/v2/apps/myapp/domains/r.example.com', { token: alice });
    expect(controller.deps.routing.generation).toBeGreaterThan(afterAdd);
    const failed = controller.deps.routing.generation;
    await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain: '*' } });
    expect(controller.deps.routing.generation).toBe(failed);
    const lines = await controller.deps.db.selectFrom('log_lines').select('line').orderBy('id').execute();
    expect(lines.map((l) => l.line.replace(/^\S+ /, ''))).toEqual(['deis[controller]: INFO domain r.example.com added', 'deis[controller]: INFO domain r.example.com removed']);
  });

  it('refuses a wildcard that covers the platform domain from above or below, and accepts others', async () => {
    controller.deps.settings = { ...controller.deps.settings, platformDomain: 'paas.example.com' };
    for (const domain of ['*.example.com', '*.com', '*.paas.example.com', '*.EXAMPLE.com.']) {
      const response = await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain } });
      expect(response.status, domain).toBe(400);
      expect((response.json as { domain: string[] }).domain[0]).toMatch(/is reserved for the platform's own app and service names$/);
    }
    for (const domain of ['*.example.org', 'example.com', '*.other.example.com']) {
      expect((await controller.call('POST', '/v2/apps/myapp/domains/', { token: alice, body: { domain } })).status, domain).toBe(201);
    }
  });
});
