import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ECDSA_P256_KEY, ED25519_KEY, ED25519_KEY_2, RSA_KEY, RSA_KEY_2 } from '../keys/sample-keys.ts';
import { createTestApp } from '../testing/test-apps.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('builder key hooks', () => {
  let controller: TestController;
  let admin: string;
  let owner: string;
  let alice: string;
  let bob: string;

  async function addKey(token: string, id: string, publicKey: string): Promise<void> {
    expect((await controller.call('POST', '/v2/keys', { token, body: { id, public: publicKey } })).status).toBe(201);
  }
  const hook = (url: string) => controller.call('GET', url, { builder: true });

  beforeEach(async () => {
    controller = await startTestController();
    admin = await controller.user('admin', { admin: true });
    owner = await controller.user('owner');
    alice = await controller.user('alice');
    bob = await controller.user('bob');
    await createTestApp(controller, 'owner', 'zeta');
    await createTestApp(controller, 'owner', 'alpha');
    await createTestApp(controller, 'bob', 'bobs-app');
    await addKey(owner, 'owner-1', RSA_KEY.public);
    await addKey(owner, 'owner-2', ED25519_KEY.public);
    await addKey(alice, 'alice-1', RSA_KEY_2.public);
    await addKey(bob, 'bob-1', ECDSA_P256_KEY.public);
    await addKey(admin, 'admin-1', ED25519_KEY_2.public);
  });
  afterEach(async () => controller.close());

  describe('GET /v2/hooks/key/{fingerprint}', () => {
    it("names the key's owner and the apps they may use", async () => {
      const response = await hook(`/v2/hooks/key/${RSA_KEY.fingerprint}`);
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ username: 'owner', apps: ['alpha', 'zeta'] });

      expect((await hook(`/v2/hooks/key/${RSA_KEY_2.fingerprint}`)).json).toEqual({ username: 'alice', apps: [] });
      await controller.call('POST', '/v2/apps/zeta/perms', { token: owner, body: { username: 'alice' } });
      expect((await hook(`/v2/hooks/key/${RSA_KEY_2.fingerprint}`)).json).toEqual({ username: 'alice', apps: ['zeta'] });
      expect((await hook(`/v2/hooks/key/${ED25519_KEY_2.fingerprint}`)).json).toEqual({ username: 'admin', apps: ['alpha', 'bobs-app', 'zeta'] });
    });

    it('accepts the fingerprint URL-encoded and in upper case', async () => {
      const response = await hook(`/v2/hooks/key/${encodeURIComponent(RSA_KEY.fingerprint.toUpperCase())}`);
      expect(response.json).toEqual({ username: 'owner', apps: ['alpha', 'zeta'] });
    });

    it('answers 404 for an unknown or malformed fingerprint', async () => {
      for (const fingerprint of ['54:6d:da:1f:91:b5:2b:6f:a2:83:90:c4:f9:73:76:wooooo', 'nope']) {
        const response = await hook(`/v2/hooks/key/${fingerprint}`);
        expect(response.status).toBe(404);
        expect(response.json).toBe('No Key matches the given query.');
      }
    });

    it('stops answering for a key once it is removed', async () => {
      await controller.call('DELETE', '/v2/keys/owner-1', { token: owner });
      expect((await hook(`/v2/hooks/key/${RSA_KEY.fingerprint}`)).status).toBe(404);
    });
  });

  describe('GET /v2/hooks/keys/{app}', () => {
    it('gives the keys of everyone who may push: owner, collaborators and admins, oldest key first', async () => {
      await controller.call('POST', '/v2/apps/zeta/perms', { token: owner, body: { username: 'alice' } });
      const response = await hook('/v2/hooks/keys/zeta');
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        owner: [
          { key: RSA_KEY.public, fingerprint: RSA_KEY.fingerprint },
          { key: ED25519_KEY.public, fingerprint: ED25519_KEY.fingerprint },
        ],
        alice: [{ key: RSA_KEY_2.public, fingerprint: RSA_KEY_2.fingerprint }],
        admin: [{ key: ED25519_KEY_2.public, fingerprint: ED25519_KEY_2.fingerprint }],
      });
      expect(Object.keys(response.json as object)).toEqual(['owner', 'alice', 'admin']);
      // bob may not use zeta.
      expect(response.body).not.toContain(ECDSA_P256_KEY.fingerprint);
    });

    it('answers 404 for an unknown app', async () => {
      const response = await hook('/v2/hooks/keys/doesnotexist');
      expect(response.status).toBe(404);
      expect(response.json).toBe('No App matches the given query.');
    });
  });

  describe('GET /v2/hooks/keys/{app}/{username}', () => {
    it("gives one allowed user's keys", async () => {
      const response = await hook('/v2/hooks/keys/alpha/owner');
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        owner: [
          { key: RSA_KEY.public, fingerprint: RSA_KEY.fingerprint },
          { key: ED25519_KEY.public, fingerprint: ED25519_KEY.fingerprint },
        ],
      });
      expect((await hook('/v2/hooks/keys/alpha/admin')).json).toEqual({ admin: [{ key: ED25519_KEY_2.public, fingerprint: ED25519_KEY_2.fingerprint }] });
    });

    it('answers 403 for a user who may not use the app, 404 for unknown apps and users and for a user without keys', async () => {
      expect(await hook('/v2/hooks/keys/alpha/bob')).toMatchObject({ status: 403, json: { detail: 'You do not have permission to perform this action.' } });
      expect(await hook('/v2/hooks/keys/alpha/foooooo')).toMatchObject({ status: 404, json: 'No User matches the given query.' });
      expect(await hook('/v2/hooks/keys/nope/owner')).toMatchObject({ status: 404, json: 'No App matches the given query.' });
      await controller.user('keyless');
      await controller.call('POST', '/v2/apps/alpha/perms', { token: owner, body: { username: 'keyless' } });
      expect(await hook('/v2/hooks/keys/alpha/keyless')).toMatchObject({ status: 404, json: 'No Keys match the given query.' });
    });
  });

  it('needs the builder key: 401 without it, 403 with a wrong one', async () => {
    for (const url of [`/v2/hooks/key/${RSA_KEY.fingerprint}`, '/v2/hooks/keys/alpha', '/v2/hooks/keys/alpha/owner']) {
      expect((await controller.call('GET', url)).status).toBe(401);
      expect((await controller.call('GET', url, { headers: { 'x-deis-builder-auth': 'wrong-key-wrong-key-wrong' } })).status).toBe(403);
    }
  });
});
