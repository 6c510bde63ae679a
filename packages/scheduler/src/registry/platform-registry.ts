/**
 * The platform's image registry as its clients see it (ADR 0019): the builder pushes each release's image there, the
 * swarm's nodes pull it with the platform's login, and the images the controller prunes are deleted from it through
 * the registry's HTTP API (v2), so that its garbage collection can free their layers. Also how an engine comes to
 * trust the registry's own CA (`/etc/docker/certs.d/<host:port>/ca.crt`, read by the engine at each pull and push).
 * @module
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { RegistryLogin } from '../scheduler.ts';

export interface PlatformRegistry {
  /** `host:port`, as image names carry it: `<address>/<app>:git-<sha8>`. */
  address: string;
  login: RegistryLogin;
  /** The PEM of the CA the registry's certificate chains to; absent: the system's trusted CAs. */
  ca?: string;
}

/** The registry refused the login (401) or the operation (403). */
export class RegistryAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryAuthError';
  }
}

export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

/** What a `DELETE` is asked to accept: engines of today push schema 2 (and OCI) manifests. */
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** `host[:port]` of `address`, checked: what an image name may start with, and nothing a path could escape from. */
export function checkRegistryAddress(address: string): string {
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(address) || !/[.:]|^localhost/.test(address)) {
    throw new Error(`a registry address is host:port (like 10.0.0.5:5000 or registry.example.com), not "${address}"`);
  }
  return address;
}

/** The repository (without the registry) and tag of `image` when it names `address`'s registry; else null. */
export function registryRepository(image: string, address: string): { name: string; tag: string } | null {
  if (!image.startsWith(`${address}/`)) return null;
  const rest = image.slice(address.length + 1).split('@', 1)[0] ?? '';
  const colon = rest.lastIndexOf(':');
  if (colon <= 0 || rest.indexOf('/', colon) !== -1) return null;
  return { name: rest.slice(0, colon), tag: rest.slice(colon + 1) };
}

/** The `X-Registry-Auth` an engine wants for a pull or push from `registry` (dockerode's `authconfig`). */
export function engineAuth(registry: string, login: RegistryLogin): { username: string; password: string; serveraddress: string } {
  return { username: login.username, password: login.password, serveraddress: registry };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(registry: PlatformRegistry, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const [host = '', port = '443'] = registry.address.split(':');
  const auth = Buffer.from(`${registry.login.username}:${registry.login.password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method,
        path,
        headers: { authorization: `Basic ${auth}`, ...headers },
        ...(registry.ca ? { ca: registry.ca } : {}),
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the registry at ${registry.address} did not answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

function refused(registry: PlatformRegistry, answer: Answer, doing: string): Error {
  if (answer.status === 401) return new RegistryAuthError(`the registry at ${registry.address} refused the login of user ${registry.login.username} (${doing})`);
  if (answer.status === 403) return new RegistryAuthError(`the registry at ${registry.address} denied ${doing} to user ${registry.login.username}`);
  if (answer.status === 405) return new Error(`the registry at ${registry.address} does not allow ${doing} (deletes disabled, or read-only during its garbage collection)`);
  return new Error(`the registry at ${registry.address} answered ${answer.status} to ${doing}: ${answer.body.slice(0, 200)}`);
}

/** Whether the registry takes the login (`GET /v2/`). */
export async function checkLogin(registry: PlatformRegistry): Promise<void> {
  const answer = await call(registry, 'GET', '/v2/');
  if (answer.status !== 200) throw refused(registry, answer, 'a login');
}

/** The digest of the manifest `name:tag` points at; null when there is none. */
export async function manifestDigest(registry: PlatformRegistry, name: string, tag: string): Promise<string | null> {
  const answer = await call(registry, 'HEAD', `/v2/${name}/manifests/${encodeURIComponent(tag)}`, { accept: MANIFEST_TYPES });
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw refused(registry, answer, `reading ${name}:${tag}`);
  const digest = answer.headers['docker-content-digest'];
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`the registry at ${registry.address} gave no digest for ${name}:${tag}`);
  return digest;
}

/** The tags of repository `name`; none when the repository does not exist. */
export async function repositoryTags(registry: PlatformRegistry, name: string): Promise<string[]> {
  const answer = await call(registry, 'GET', `/v2/${name}/tags/list`);
  if (answer.status === 404) return [];
  if (answer.status !== 200) throw refused(registry, answer, `listing the tags of ${name}`);
  const tags = (JSON.parse(answer.body) as { tags?: string[] | null }).tags;
  return tags ?? [];
}

/**
 * Deletes the manifest `image` (`<address>/<name>:<tag>`) names, which untags it; its layers go at the registry's next
 * garbage collection. A manifest is deleted by digest, which would also take every other tag on the same digest (a
 * commit whose build came out identical to another's): then it is left ('shared'), as the other tag still needs it.
 */
export async function deleteRegistryImage(registry: PlatformRegistry, image: string): Promise<'deleted' | 'absent' | 'shared'> {
  const ref = registryRepository(image, registry.address);
  if (!ref) throw new Error(`${image} is not an image of the registry at ${registry.address}`);
  const digest = await manifestDigest(registry, ref.name, ref.tag);
  if (digest === null) return 'absent';
  for (const tag of await repositoryTags(registry, ref.name)) {
    if (tag !== ref.tag && (await manifestDigest(registry, ref.name, tag)) === digest) return 'shared';
  }
  const answer = await call(registry, 'DELETE', `/v2/${ref.name}/manifests/${digest}`);
  if (answer.status === 404) return 'absent';
  if (answer.status !== 202 && answer.status !== 200) throw refused(registry, answer, `deleting ${image}`);
  return 'deleted';
}

/**
 * Has the engines of this host trust `ca` for `address` (`<certsDir>/<address>/ca.crt`); returns the file. Written
 * only when different, so every role of one host may call it.
 */
export function trustRegistryCa(address: string, ca: string, certsDir = DEFAULT_CERTS_DIR): string {
  const dir = join(certsDir, checkRegistryAddress(address));
  const file = join(dir, 'ca.crt');
  let current: string | null = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = null;
  }
  if (current !== ca) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(file, ca, { mode: 0o644 });
  }
  return file;
}

/** Undoes `trustRegistryCa`. */
export function forgetRegistryCa(address: string, certsDir = DEFAULT_CERTS_DIR): void {
  rmSync(join(certsDir, checkRegistryAddress(address)), { recursive: true, force: true });
}

/**
 * The platform registry a role uses, from its environment: DEIS_REGISTRY (`host:port`), DEIS_REGISTRY_USERNAME
 * (default `deis`), DEIS_REGISTRY_PASSWORD, DEIS_REGISTRY_CA (a PEM file; unset: publicly trusted). Null when
 * DEIS_REGISTRY is unset: images stay on the engine that built them (ADR 0007). `fallbackPassword` reads the
 * password the registry role generated when this role shares its data directory.
 */
export function loadPlatformRegistry(env: Record<string, string | undefined>, fallbackPassword?: () => string | null): PlatformRegistry | null {
  const address = env.DEIS_REGISTRY?.trim();
  if (!address) return null;
  checkRegistryAddress(address);
  const password = env.DEIS_REGISTRY_PASSWORD || fallbackPassword?.() || null;
  if (!password) throw new Error('DEIS_REGISTRY is set but DEIS_REGISTRY_PASSWORD is not (the registry role keeps a generated one in <data dir>/secrets/registry-password)');
  const caFile = env.DEIS_REGISTRY_CA?.trim();
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new Error(`DEIS_REGISTRY_CA: cannot read ${caFile}: ${(error as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`DEIS_REGISTRY_CA: ${caFile} holds no PEM certificate`);
  }
  return { address, login: { username: env.DEIS_REGISTRY_USERNAME || 'deis', password }, ...(ca ? { ca } : {}) };
}
