import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCertificate } from '../certs/test-certificates.ts';
import type { TestCertificate } from '../certs/test-certificates.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { allAppRoutingFacts, appRoutingFacts } from './routing-facts.ts';
import { createTestApp } from '../testing/test-apps.ts';

describe('routing facts', () => {
  let pair: TestCertificate;
  beforeAll(async () => {
    pair = await makeTestCertificate({ subject: '/CN=shop.example.com' });
  });

  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
  });
  afterEach(async () => controller.close());

  it('reads the defaults of a new app', async () => {
    const app = await createTestApp(controller, 'alice', 'plain');
    const expected = { app: 'plain', appUuid: app.uuid, domains: ['plain'], certificates: {}, maintenance: false, routable: true, whitelist: [], httpsEnforced: false };
    expect(await appRoutingFacts(controller.deps.db, app)).toEqual(expected);
    expect((await allAppRoutingFacts(controller.deps.db)).get('plain')).toEqual(expected);
  });

  it('reads what the endpoints set, the same way one app at a time and all at once', async () => {
    const shop = await createTestApp(controller, 'alice', 'shop');
    const other = await createTestApp(controller, 'alice', 'other');
    const call = (method: string, url: string, body?: unknown) => controller.call(method, url, { token: alice, body });
    await call('POST', '/v2/apps/shop/domains/', { domain: 'shop.example.com' });
    await call('POST', '/v2/certs/', { name: 'shop', certificate: pair.certificate, key: pair.key });
    await call('POST', '/v2/certs/shop/domain/', { domain: 'shop.example.com' });
    await call('POST', '/v2/apps/shop/settings/', { maintenance: true, whitelist: ['10.0.0.0/8'] });
    await call('POST', '/v2/apps/shop/settings/', { routable: false });
    await call('POST', '/v2/apps/shop/tls/', { https_enforced: true });
    await call('POST', '/v2/apps/other/tls/', { https_enforced: true });
    await call('POST', '/v2/apps/other/tls/', { https_enforced: false });

    const facts = await appRoutingFacts(controller.deps.db, shop);
    expect(facts).toEqual({
      app: 'shop',
      appUuid: shop.uuid,
      domains: ['shop', 'shop.example.com'],
      certificates: { 'shop.example.com': { name: 'shop', certificate: pair.certificate, key: pair.key } },
      maintenance: true,
      routable: false,
      whitelist: ['10.0.0.0/8'],
      httpsEnforced: true,
    });
    const all = await allAppRoutingFacts(controller.deps.db);
    expect([...all.keys()]).toEqual(['other', 'shop']);
    expect(all.get('shop')).toEqual(facts);
    expect(all.get('other')).toEqual(await appRoutingFacts(controller.deps.db, other));
    expect(all.get('other')?.httpsEnforced).toBe(false);
  });
});
