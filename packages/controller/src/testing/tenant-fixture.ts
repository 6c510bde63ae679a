/**
 * Tenants for the cross-cutting access tests (the authorization matrix and the fuzz test): an owner with an app that
 * has a build, a release after it, a running pod, two domains (one carrying the owner's certificate), a whitelist
 * entry and an SSH key, a collaborator on it, a user with no part in it and two admins. Each call makes a fresh set
 * with names of its own, so a request that changes or destroys one set leaves every other as it was. Used only by
 * `*.test.ts` files.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { storeTime } from '../clock.ts';
import { whenAppIdle } from '../formation/formation-state.ts';
import { makeTestCertificate } from '../certs/test-certificates.ts';
import type { TestCertificate } from '../certs/test-certificates.ts';
import { hashPassword } from '../users/password.ts';
import { issueToken } from '../users/user-store.ts';
import type { TestController } from './test-controller.ts';

export const TENANT_PASSWORD = 'tenant-password';

export interface Tenant {
  username: string;
  token: string;
}

export interface Tenants {
  owner: Tenant;
  collaborator: Tenant;
  /** A user with no part in the app. */
  other: Tenant;
  admin: Tenant;
  /** A second admin, whom the admin may demote. */
  spareAdmin: Tenant;
  app: string;
  buildUuid: string;
  pod: string;
  /** A domain of the app with the owner's certificate attached. */
  domain: string;
  /** A domain of the app without a certificate. */
  freeDomain: string;
  cert: string;
  key: string;
  keyFingerprint: string;
  /** An address on the app's whitelist (a documentation address, never contacted). */
  whitelisted: string;
  /** Unique to this set, for names a request creates (`new-<suffix>`). */
  suffix: string;
}

/** A fresh SSH public key line (ed25519, built from its raw 32 bytes). */
export function newPublicKey(comment = 'tenant'): string {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} ${comment}`;
}

export class TenantFactory {
  private count = 0;

  private constructor(
    private readonly controller: TestController,
    private readonly passwordHash: string,
    readonly certificate: TestCertificate,
  ) {}

  /** One scrypt hash and one certificate serve every set, which keeps a set to a few milliseconds. */
  static async create(controller: TestController): Promise<TenantFactory> {
    return new TenantFactory(controller, await hashPassword(TENANT_PASSWORD), await makeTestCertificate({ subject: '/CN=tenant.example.org' }));
  }

  private async person(username: string, admin: boolean): Promise<Tenant> {
    const row = await this.controller.deps.db
      .insertInto('users')
      .values({ username, email: `${username}@example.test`, first_name: '', last_name: '', password_hash: this.passwordHash, is_superuser: admin ? 1 : 0, is_staff: admin ? 1 : 0, is_active: 1, last_login: null, date_joined: storeTime() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { username, token: await issueToken(this.controller.deps.db, row.id) };
  }

  /** Sends a request as `as`, failing loudly when it does not give `status`: a set is either whole or an error. */
  private async must(status: number, method: string, url: string, as: Tenant, body?: unknown): Promise<unknown> {
    const response = await this.controller.call(method, url, { token: as.token, body });
    if (response.status !== status) throw new Error(`setting up tenants: ${method} ${url} gave ${response.status} ${response.body}`);
    return response.json;
  }

  async next(): Promise<Tenants> {
    this.count += 1;
    const suffix = `t${this.count}`;
    const [owner, collaborator, other, admin, spareAdmin] = [
      await this.person(`owner-${suffix}`, false),
      await this.person(`collab-${suffix}`, false),
      await this.person(`other-${suffix}`, false),
      await this.person(`admin-${suffix}`, true),
      await this.person(`spare-${suffix}`, true),
    ];
    const app = `app-${suffix}`;
    const base = `/v2/apps/${app}`;
    await this.must(201, 'POST', '/v2/apps/', owner, { id: app });
    await this.must(201, 'POST', `${base}/perms/`, owner, { username: collaborator.username });
    await this.must(201, 'POST', `${base}/builds/`, owner, { image: 'example/tenant:1', procfile: { web: 'serve' } });
    await whenAppIdle(this.controller.deps, app);
    await this.must(201, 'POST', `${base}/config/`, owner, { values: { TENANT: suffix } });
    await whenAppIdle(this.controller.deps, app);
    const build = (await this.must(200, 'GET', `${base}/builds/`, owner)) as { results: { uuid: string }[] };
    const pods = (await this.must(200, 'GET', `${base}/pods/`, owner)) as { results: { name: string }[] };
    const domain = `${app}.example.org`;
    const freeDomain = `free-${suffix}.example.org`;
    await this.must(201, 'POST', `${base}/domains/`, owner, { domain });
    await this.must(201, 'POST', `${base}/domains/`, owner, { domain: freeDomain });
    const cert = `cert-${suffix}`;
    await this.must(201, 'POST', '/v2/certs/', owner, { name: cert, ...this.certificate });
    await this.must(201, 'POST', `/v2/certs/${cert}/domain/`, owner, { domain });
    const key = `key-${suffix}`;
    const uploaded = (await this.must(201, 'POST', '/v2/keys/', owner, { id: key, public: newPublicKey() })) as { fingerprint: string };
    const whitelisted = '192.0.2.1';
    await this.must(201, 'POST', `${base}/whitelist/`, owner, { addresses: [whitelisted] });
    return {
      owner,
      collaborator,
      other,
      admin,
      spareAdmin,
      app,
      buildUuid: build.results[0]!.uuid,
      pod: pods.results[0]!.name,
      domain,
      freeDomain,
      cert,
      key,
      keyFingerprint: uploaded.fingerprint,
      whitelisted,
      suffix,
    };
  }
}
