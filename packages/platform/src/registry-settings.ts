/**
 * The settings of the registry role (`platform.js registry`, ADR 0019): where the Distribution registry listens, the
 * names its certificate is made for, the one login it takes, and how often its garbage collection runs. Read once
 * from the environment, every problem reported at once; the password is never echoed.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlatformSettings } from './platform-settings.ts';

export interface RegistrySettings {
  /** The registry's files: its storage, TLS material, htpasswd and config (`<data dir>/registry`). */
  dir: string;
  /** DEIS_REGISTRY_LISTEN: the address and port it listens on; default 127.0.0.1:5000. */
  host: string;
  port: number;
  /** DEIS_REGISTRY_NAMES: the IP addresses and host names its certificate is valid for; default the listen address. */
  names: string[];
  /** DEIS_REGISTRY_USERNAME; default `deis`. */
  username: string;
  /** DEIS_REGISTRY_PASSWORD, or one generated into `<data dir>/secrets/registry-password`. */
  password: () => string;
  /** DEIS_REGISTRY_GC_INTERVAL: seconds between garbage collections; 0: never. Default a day. */
  gcIntervalSeconds: number;
  /** DEIS_REGISTRY_BINARY: Debian's `docker-registry` unless given. */
  binary: string;
}

export const DEFAULT_REGISTRY_PORT = 5000;
const DEFAULT_GC_INTERVAL_SECONDS = 86_400;

/** The password the registry role generated, when this host's data directory has one; null if not. */
export function storedRegistryPassword(dataDir: string): string | null {
  try {
    const value = readFileSync(join(dataDir, 'secrets', 'registry-password'), 'utf8').trim();
    return value.length > 0 ? value : null;
  } catch {
    return null;
  }
}

function ensureRegistryPassword(dataDir: string): string {
  const existing = storedRegistryPassword(dataDir);
  if (existing) return existing;
  const dir = join(dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  writeFileSync(join(dir, 'registry-password'), `${password}\n`, { mode: 0o600 });
  return password;
}

/** A host name or an IP address a certificate may name. */
function isName(name: string): boolean {
  return isIP(name) !== 0 || /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(name);
}

export function loadRegistrySettings(platform: Pick<PlatformSettings, 'dataDir'>, env: Record<string, string | undefined> = process.env): Readonly<RegistrySettings> {
  const problems: string[] = [];
  let host = '127.0.0.1';
  let port = DEFAULT_REGISTRY_PORT;
  const listen = env.DEIS_REGISTRY_LISTEN?.trim();
  if (listen) {
    const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(listen);
    const value = Number(match?.[2]);
    if (!match || isIP(match[1]!) !== 4 || !(value >= 1 && value <= 65535)) problems.push(`DEIS_REGISTRY_LISTEN must be an IPv4 address and port, like 10.0.0.5:5000, not "${listen}"`);
    else [host, port] = [match[1]!, value];
  }
  const names = (env.DEIS_REGISTRY_NAMES ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) if (!isName(name)) problems.push(`DEIS_REGISTRY_NAMES must list host names and IP addresses separated by commas; "${name}" is neither`);
  // The engines reach the registry by the address in image names; the certificate must name it.
  if (!names.includes(host) && host !== '0.0.0.0') names.unshift(host);
  if (names.length === 0) problems.push('DEIS_REGISTRY_NAMES must name the address the nodes reach the registry at when it listens on 0.0.0.0');
  const username = env.DEIS_REGISTRY_USERNAME?.trim() || 'deis';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(username)) problems.push(`DEIS_REGISTRY_USERNAME may hold letters, digits, ".", "_" and "-", not "${username}"`);
  const given = env.DEIS_REGISTRY_PASSWORD;
  if (given !== undefined && given !== '' && given.length < 16) problems.push('DEIS_REGISTRY_PASSWORD must be at least 16 characters');
  // bcrypt reads at most 72 bytes; a longer password would be accepted by any login sharing its first 72.
  if (given !== undefined && Buffer.byteLength(given) > 72) problems.push('DEIS_REGISTRY_PASSWORD must be at most 72 bytes (bcrypt)');
  let gcIntervalSeconds = DEFAULT_GC_INTERVAL_SECONDS;
  const gc = env.DEIS_REGISTRY_GC_INTERVAL?.trim();
  if (gc) {
    gcIntervalSeconds = Number(gc);
    if (!Number.isInteger(gcIntervalSeconds) || gcIntervalSeconds < 0 || (gcIntervalSeconds > 0 && gcIntervalSeconds < 60)) {
      problems.push(`DEIS_REGISTRY_GC_INTERVAL must be a number of seconds of at least 60, or 0 for never, not "${gc}"`);
    }
  }
  if (problems.length > 0) throw new Error(`invalid registry settings:\n  ${problems.join('\n  ')}`);
  return Object.freeze({
    dir: join(platform.dataDir, 'registry'),
    host,
    port,
    names,
    username,
    password: given ? () => given : () => ensureRegistryPassword(platform.dataDir),
    gcIntervalSeconds,
    binary: env.DEIS_REGISTRY_BINARY?.trim() || 'docker-registry',
  });
}
