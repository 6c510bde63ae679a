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
  /** How long nginx waits to connect to a container before it tries the next (DEIS_ROUTER_CONNECT_TIMEOUT). */
  routerConnectTimeoutSeconds: number;
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
  /** The memory limit of app and one-off containers whose app sets none (`deis limits`); null: none. */
  containerMemoryBytes: number | null;
  /** The most processes (threads included) one app or one-off container may have. */
  containerPidsLimit: number;
  /** A buildpack build's limits. */
  buildMemoryBytes: number;
  buildCpus: number;
  buildPidsLimit: number;
  /** Install the firewall rule that keeps containers off link-local addresses (cloud metadata). */
  blockLinkLocal: boolean;
  /** The autoscaler's pass interval and the HPA's stabilisation windows, in seconds (docs/autoscaling.md). */
  autoscale: { syncPeriodSeconds: number; scaleUpWindowSeconds: number; scaleDownWindowSeconds: number };
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `512M`, `2G`, `1048576` → bytes; `0` → null (no limit), when `zeroIsNone`. */
function byteSize(env: Record<string, string | undefined>, name: string, fallback: number, zeroIsNone: boolean, problems: string[]): number | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)([kmg]?)b?$/i.exec(raw.trim());
  const bytes = match ? Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]! : NaN;
  if (bytes === 0 && zeroIsNone) return null;
  // The engine refuses a memory limit under 6 MB.
  if (!(bytes >= 6 * 1024 ** 2)) problems.push(`${name} must be a size of at least 6M, like 512M or 2G${zeroIsNone ? ', or 0 for none' : ''}, not "${raw}"`);
  return bytes;
}

function cores(env: Record<string, string | undefined>, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 0.01)) problems.push(`${name} must be a number of CPU cores of at least 0.01, like 1 or 1.5, not "${raw}"`);
  return value;
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

/** Whole seconds from `min` to 3600 (the HPA's longest stabilisation window). */
function seconds(env: Record<string, string | undefined>, name: string, fallback: number, min: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = wholeNumber(raw);
  if (!Number.isInteger(value) || value < min || value > 3600) problems.push(`${name} must be a whole number of seconds from ${min} to 3600, not "${raw}"`);
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
    routerConnectTimeoutSeconds: seconds(env, 'DEIS_ROUTER_CONNECT_TIMEOUT', 30, 1, problems),
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
    containerMemoryBytes: byteSize(env, 'DEIS_CONTAINER_MEMORY_LIMIT', 512 * 1024 ** 2, true, problems),
    containerPidsLimit: positiveInteger(env, 'DEIS_CONTAINER_PIDS_LIMIT', 1024, problems),
    buildMemoryBytes: byteSize(env, 'DEIS_BUILD_MEMORY_LIMIT', 2 * 1024 ** 3, false, problems) ?? 2 * 1024 ** 3,
    buildCpus: cores(env, 'DEIS_BUILD_CPU_LIMIT', 2, problems),
    buildPidsLimit: positiveInteger(env, 'DEIS_BUILD_PIDS_LIMIT', 4096, problems),
    blockLinkLocal: flag(env, 'DEIS_BLOCK_LINK_LOCAL', true, problems),
    autoscale: {
      syncPeriodSeconds: seconds(env, 'DEIS_AUTOSCALE_SYNC_PERIOD', 15, 1, problems),
      scaleUpWindowSeconds: seconds(env, 'DEIS_AUTOSCALE_SCALE_UP_WINDOW', 0, 0, problems),
      scaleDownWindowSeconds: seconds(env, 'DEIS_AUTOSCALE_SCALE_DOWN_WINDOW', 300, 0, problems),
    },
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
