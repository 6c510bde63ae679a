/**
 * The settings of the platform as a whole on one host: where its state lives, which ports and domain it uses, which
 * Docker network its apps join. Read once from the environment; each role's own settings are derived from these.
 * @module
 */
import { resolve } from 'node:path';
import { stackPullFromEnv } from '@deis/builder/buildpack-stacks';

export interface PlatformSettings {
  /** Everything the platform keeps: the store, secrets, git repos, SSH host keys, nginx's files, logs. */
  dataDir: string;
  platformDomain: string;
  /** Distinguishes this platform's containers from another platform's on the same engine. */
  platformName: string;
  controllerPort: number;
  routerHttpPort: number;
  routerHttpsPort: number;
  builderSshPort: number;
  builderHttpPort: number;
  networkName: string;
  networkSubnet: string;
  /** Add `deis.<domain>` and `deis-builder.<domain>` to /etc/hosts (only meaningful for the default `localhost`). */
  manageHostsFile: boolean;
  /** Where `up` links the built CLI as `deis`; null: nowhere. */
  cliLink: string | null;
  /** A buildpack build is stopped after this many seconds. */
  buildTimeoutSeconds: number;
  /** A buildpack build whose compressed slug is larger fails. */
  slugSizeLimitMegabytes: number;
  /** A push sending more than this many megabytes is refused, over SSH and HTTP alike. */
  pushSizeLimitMegabytes: number;
  /** Heroku's well-known buildpack URLs use the bundled buildpacks without trying the network (offline hosts). */
  preferBundledBuildpacks: boolean;
  /** The buildpack stacks to pull from a registry instead of making them here; null: make them. */
  stackPull: { build: string; run: string } | null;
}

/** Digits only, else NaN: Number() would also take `0x10`, `1e3` and ` 80 `. */
function wholeNumber(raw: string): number {
  return /^\d+$/.test(raw) ? Number(raw) : NaN;
}

/** Whether `cidr` is a network inside 100.64.0.0/10 (RFC 6598's shared address space), not merely starting in it. */
function insideSharedAddressSpace(cidr: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return false;
  const [first, second, third, fourth] = match.slice(1, 5).map(Number) as [number, number, number, number];
  const prefix = Number(match[5]);
  // A prefix under 10 reaches past 100.64.0.0/10 (100.64.0.0/8 is all of 100/8); over 30 leaves no container address.
  if (third > 255 || fourth > 255 || prefix < 10 || prefix > 30) return false;
  return first === 100 && second >= 64 && second <= 127;
}

function positiveInteger(env: Record<string, string | undefined>, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = wholeNumber(raw);
  if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a whole number above 0, not "${raw}"`);
  return value;
}

function flag(env: Record<string, string | undefined>, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  problems.push(`${name} must be true or false, not "${env[name]}"`);
  return fallback;
}

function port(env: Record<string, string | undefined>, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = wholeNumber(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) problems.push(`${name} must be a port number, not "${raw}"`);
  return value;
}

export function loadPlatformSettings(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Readonly<PlatformSettings> {
  const problems: string[] = [];
  const platformDomain = env.DEIS_PLATFORM_DOMAIN || 'localhost';
  const settings: PlatformSettings = {
    dataDir: resolve(cwd, env.DEIS_DATA_DIR || '.data'),
    platformDomain,
    platformName: env.DEIS_PLATFORM_NAME || 'deis',
    controllerPort: port(env, 'DEIS_CONTROLLER_PORT', 8000, problems),
    routerHttpPort: port(env, 'DEIS_ROUTER_HTTP_PORT', 80, problems),
    routerHttpsPort: port(env, 'DEIS_ROUTER_HTTPS_PORT', 443, problems),
    builderSshPort: port(env, 'DEIS_BUILDER_SSH_PORT', 2222, problems),
    builderHttpPort: port(env, 'DEIS_BUILDER_HTTP_PORT', 8001, problems),
    networkName: env.DEIS_NETWORK || 'deis',
    networkSubnet: env.DEIS_NETWORK_SUBNET || '100.64.0.0/16',
    manageHostsFile: flag(env, 'DEIS_MANAGE_HOSTS_FILE', platformDomain === 'localhost', problems),
    cliLink: env.DEIS_CLI_LINK === undefined ? '/usr/local/bin/deis' : env.DEIS_CLI_LINK || null,
    buildTimeoutSeconds: positiveInteger(env, 'DEIS_BUILD_TIMEOUT', 900, problems),
    slugSizeLimitMegabytes: positiveInteger(env, 'DEIS_SLUG_SIZE_LIMIT', 500, problems),
    pushSizeLimitMegabytes: positiveInteger(env, 'DEIS_PUSH_SIZE_LIMIT', 1024, problems),
    preferBundledBuildpacks: flag(env, 'DEIS_BUILDPACK_PREFER_BUNDLED', false, problems),
    stackPull: null,
  };
  try {
    settings.stackPull = stackPullFromEnv(env) ?? null;
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(platformDomain)) problems.push(`DEIS_PLATFORM_DOMAIN is not a domain name: "${platformDomain}"`);
  if (!insideSharedAddressSpace(settings.networkSubnet)) {
    problems.push(`DEIS_NETWORK_SUBNET must be inside 100.64.0.0/10 (it keeps apps off the private ranges users' LANs use), not "${settings.networkSubnet}"`);
  }
  if (problems.length > 0) throw new Error(`invalid platform settings:\n  ${problems.join('\n  ')}`);
  return Object.freeze(settings);
}
