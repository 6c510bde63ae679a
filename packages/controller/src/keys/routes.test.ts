import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Key, Page } from '@deis/sdk/types';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { ECDSA_P256_KEY, ED25519_KEY, ED25519_KEY_2, RSA_KEY, RSA_KEY_2 } from './sample-keys.ts';
import type { SampleKey } from './sample-keys.ts';

describe('/v2/keys', () => {
  let controller: TestController;
  let token: string;
  beforeEach(async () => {
    controller = await startTestController();
    token = await controller.user('alice');
  });
  afterEach(async () => controller.close());

  const addKey = (id: string, publicKey: string, as = token) => controller.call('POST', '/v2/keys/', { token: as, body: { id, public: publicKey } });

  it.each([
    ['rsa', RSA_KEY],
    ['ecdsa', ECDSA_P256_KEY],
    ['ed25519', ED25519_KEY],
  ])('adds, lists, shows and removes an %s key', async (_type, sample: SampleKey) => {
    const created = await addKey('mykey@box.local', sample.public);
    expect(created.status).toBe(201);
    const key = created.json as Key;
    expect(Object.keys(key).sort()).toEqual(['created', 'fingerprint', 'id', 'owner', 'public', 'updated', 'uuid']);
    expect(key).toMatchObject({ id: 'mykey@box.local', owner: 'alice', public: sample.public, fingerprint: sample.fingerprint });
    expect(key.uuid).toMatch(/^[0-9a-f-]{36}$/);

    const list = (await controller.call('GET', '/v2/keys/', { token })).json as Page<Key>;
    expect(list.count).toBe(1);
    expect(list.results).toEqual([key]);

    const shown = await controller.call('GET', '/v2/keys/mykey@box.local', { token });
    expect(shown.status).toBe(200);
    expect(shown.json).toEqual(key);

    expect((await controller.call('DELETE', '/v2/keys/mykey@box.local', { token })).status).toBe(204);
    const gone = await controller.call('GET', '/v2/keys/mykey@box.local', { token });
    expect(gone.status).toBe(404);
    expect(gone.json).toBe('No Key matches the given query.');
    expect(((await controller.call('GET', '/v2/keys', { token })).json as Page<Key>).count).toBe(0);
  });

  it('refuses a malformed key with the contract message', async () => {
    const response = await addKey('bad', 'ssh-rsa foo_bar');
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ public: ['Key contains invalid base64 chars'] });
    expect((await addKey('bad', 'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJaFFtGfDz3nFH4NsxX/MBluv8d4o25xIFM79pnk9CO5')).json).toEqual({ public: ['Key is not a valid ssh-rsa public key'] });
  });

  it('refuses a key already in use, also by another user or with another comment', async () => {
    expect((await addKey('first', RSA_KEY.public)).status).toBe(201);
    const again = await addKey('second', RSA_KEY.public);
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ public: ['Public Key is already in use'] });
    const bob = await controller.user('bob');
    expect((await addKey('bobs', RSA_KEY.public, bob)).json).toEqual({ public: ['Public Key is already in use'] });
    const recommented = `${RSA_KEY.public.split(' ').slice(0, 2).join(' ')} another@comment`;
    expect((await addKey('bobs', recommented, bob)).json).toEqual({ public: ['Public Key is already in use'] });
    expect((await addKey('third', RSA_KEY_2.public)).status).toBe(201);
  });

  it('refuses a taken id, across users', async () => {
    expect((await addKey('shared-name', ED25519_KEY.public)).status).toBe(201);
    const bob = await controller.user('bob');
    const response = await addKey('shared-name', ED25519_KEY_2.public, bob);
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ id: ['SSH Key with this id already exists.'] });
  });

  it('validates every field at once', async () => {
    expect((await controller.call('POST', '/v2/keys', { token, body: {} })).json).toEqual({ id: ['This field is required.'], public: ['This field is required.'] });
    expect((await addKey('x'.repeat(129), 'ssh-rsa foo_bar')).json).toEqual({
      id: ['Ensure this field has no more than 128 characters.'],
      public: ['Key contains invalid base64 chars'],
    });
  });

  it("lists only the caller's keys, ordered by key text, and hides others' keys", async () => {
    await addKey('a-key', RSA_KEY.public);
    await addKey('b-key', ED25519_KEY.public);
    const bob = await controller.user('bob');
    await addKey('bobs-key', ECDSA_P256_KEY.public, bob);

    const mine = (await controller.call('GET', '/v2/keys', { token })).json as Page<Key>;
    expect(mine.results.map((k) => k.id)).toEqual(['b-key', 'a-key']);
    expect((await controller.call('GET', '/v2/keys/bobs-key', { token })).status).toBe(404);
    expect((await controller.call('DELETE', '/v2/keys/bobs-key', { token })).status).toBe(404);
    expect((await controller.call('GET', '/v2/keys/bobs-key', { token: bob })).status).toBe(200);
  });

  it('needs a token', async () => {
    expect((await controller.call('GET', '/v2/keys')).status).toBe(401);
    expect((await controller.call('POST', '/v2/keys', { body: { id: 'x', public: RSA_KEY.public } })).status).toBe(401);
  });
});
