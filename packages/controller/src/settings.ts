/**
 * The controller's settings, read once from the environment into a typed, validated, frozen object.
 * This is the only module of the controller that reads `process.env`.
 * @module
 */
import { join } from 'node:path';

export type RegistrationMode = 'enabled' | 'disabled' | 'admin_only';

export interface ControllerSettings {
  /** Where the API listens when the controller runs on its own. */
  host: string;
  port: number;
  /** `postgres://…`, or a SQLite file path. */
  databaseUrl: string;
  /** The shared secret the builder (and router) send as `X-Deis-Builder-Auth`. */
  builderKey: string;
  registrationMode: RegistrationMode;
  /** Apps are served at `<app>.<platformDomain>`. */
  platformDomain: string;
  deployHookUrls: string[];
  deployHookSecret: string | null;
  /** How long new containers get to become ready before a deploy fails. */
  deployTimeoutMs: number;
  /** Seconds between SIGTERM and SIGKILL when containers are replaced. */
  gracePeriodSeconds: number;
  /** Labels every container of this platform instance, so that two instances can share an engine. */
  platformName: string;
  /** A type the new build's Procfile no longer declares is scaled to zero (DEIS_DEPLOY_PROCFILE_MISSING_REMOVE). */
  procfileMissingRemove: boolean;
  /**
   * A build whose Procfile no longer declares a type the serving build's Procfile declares (a missing Procfile drops
   * them all) is refused with 409 before anything is stored (DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING).
   */
  rejectIfProcfileMissing: boolean;
  /**
   * This host's node labels (DEIS_NODE_LABELS, `k=v,k=v`). Only `tags:set` reads them: tags must match them, as
   * Deis's nodeSelector must match a node; no container is labelled with them.
   */
  nodeLabels: Record<string, string>;
  logLevel: string;
  /** The builder's images kept per app (DEIS_IMAGES_KEPT); older ones are removed after a successful release. Absent: 10. */
  imagesKeptPerApp?: number;
  /** Release rows kept per app (DEIS_RELEASES_KEPT), v1 and the one in force besides (releases/retention.ts). Absent: 100. */
  releasesKeptPerApp?: number;
  /** Where the router sends `deis-builder.<platformDomain>` (git over HTTP), `host:port` in DEIS_BUILDER_HTTP_UPSTREAM; absent: no builder route. */
  builderHttpUpstream?: { host: string; port: number } | null;
  /**
   * Where the router sends `deis.<platformDomain>`, `host:port` in DEIS_CONTROLLER_UPSTREAM; absent: this controller's
   * own address (loopback when it listens on every address), which only a router on its host reaches.
   */
  controllerUpstream?: { host: string; port: number } | null;
  limits: Readonly<TenantLimits>;
  /** How long a release's Procfile `release:` command may run before the release fails (DEIS_RELEASE_PHASE_TIMEOUT, seconds). Absent: 600 s. */
  releasePhaseTimeoutMs?: number;
  /** Where each app's log is kept (`$DEIS_DATA_DIR/logs`); absent: in memory only. */
  logDir?: string | null;
  /** Lines kept per app (DEIS_LOG_LINES). Absent: 1500. */
  logLinesPerApp?: number;
  /** Log drains may reach loopback and private addresses (DEIS_LOG_DRAINS_ALLOW_PRIVATE). Absent: false. */
  drainsAllowPrivate?: boolean;
  /** A PEM file of certificates TLS and HTTPS log drains trust besides the system's (DEIS_LOG_DRAINS_CA_FILE). */
  drainsCaFile?: string | null;
  /**
   * The platform's registry (DEIS_REGISTRY, `host:port`) the builder pushes to (ADR 0019): the builder's images are
   * named `<registry>/<app>:git-<sha8>`, and a reference into it is another app's image. Absent: none (ADR 0007).
   */
  registry?: string | null;
}

/**
 * What one tenant may ask of the shared host (docs/security.md, "API, accounts and quotas"). Every limit is refused
 * with a 4xx naming it before any work starts, so no request can make the platform build, start or hold more than this.
 */
export interface TenantLimits {
  /** Containers of one process type (DEIS_LIMIT_SCALE_PER_TYPE). */
  scalePerType: number;
  /** Containers of one app, all types summed (DEIS_LIMIT_CONTAINERS_PER_APP). */
  containersPerApp: number;
  /** Containers of every app a user owns, summed (DEIS_LIMIT_CONTAINERS_PER_USER). */
  containersPerUser: number;
  /** One-off runs of one app at once (DEIS_LIMIT_RUNS_PER_APP). */
  runsPerApp: number;
  /** One-off runs started by one user at once (DEIS_LIMIT_RUNS_PER_USER). */
  runsPerUser: number;
  /** The tail of a one-off run's output the answer carries (DEIS_LIMIT_RUN_OUTPUT_BYTES). */
  runOutputBytes: number;
  /** Values in one app's config (DEIS_LIMIT_CONFIG_VALUES). */
  configValues: number;
  /** Bytes of names and values in one app's config (DEIS_LIMIT_CONFIG_BYTES). */
  configBytes: number;
  /** The most an app's DEIS_DEPLOY_TIMEOUT may ask for, in seconds (DEIS_LIMIT_APP_DEPLOY_TIMEOUT). */
  appDeployTimeoutSeconds: number;
  /** The most an app's KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS may ask for (DEIS_LIMIT_APP_GRACE_PERIOD). */
  appGracePeriodSeconds: number;
}

export const DEFAULT_LIMITS: Readonly<TenantLimits> = Object.freeze({
  scalePerType: 100,
  containersPerApp: 100,
  containersPerUser: 200,
  runsPerApp: 3,
  runsPerUser: 5,
  runOutputBytes: 1024 * 1024,
  configValues: 500,
  configBytes: 256 * 1024,
  appDeployTimeoutSeconds: 600,
  appGracePeriodSeconds: 120,
});

export class SettingsError extends Error {
  constructor(problems: string[]) {
    super(`invalid controller settings:\n  ${problems.join('\n  ')}`);
    this.name = 'SettingsError';
  }
}

export const DEFAULT_IMAGES_KEPT = 10;
export const DEFAULT_RELEASES_KEPT = 100;
export const DEFAULT_RELEASE_PHASE_TIMEOUT_SECONDS = 600;

function parseLabels(raw: string, problems: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    // One `=` exactly: `a=b=c` would otherwise become a=b, and a tag `a=b=c` could never match it.
    const match = /^([^=\s]+)=([^=\s]*)$/.exec(pair);
    if (!match) {
      problems.push(`DEIS_NODE_LABELS must be k=v pairs separated by commas, not "${raw}"`);
      break;
    }
    labels[match[1]!] = match[2]!;
  }
  return labels;
}

function parseHookUrls(raw: string, problems: string[]): string[] {
  const urls = raw.split(',').map((u) => u.trim()).filter(Boolean);
  urls.forEach((url, index) => {
    let protocol = '';
    try {
      protocol = new URL(url).protocol;
    } catch {
      protocol = '';
    }
    // Not echoed: a hook URL may carry a token.
    if (protocol !== 'http:' && protocol !== 'https:') problems.push(`DEIS_DEPLOY_HOOK_URLS must be http(s) URLs separated by commas; URL ${index + 1} is not`);
  });
  return urls;
}

function parseUpstream(name: string, raw: string, problems: string[]): { host: string; port: number } | null {
  if (raw === '') return null;
  const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match?.[1] || port < 1 || port > 65535) {
    problems.push(`${name} must be host:port, not "${raw}"`);
    return null;
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** Reads every setting at once and reports every problem at once. */
export function loadControllerSettings(env: Record<string, string | undefined> = process.env): Readonly<ControllerSettings> {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    // Digits only: Number() would also take `0x10`, `1e3` and ` 30 `.
    const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false, not "${raw}"`);
    return fallback;
  };

  const dataDir = env.DEIS_DATA_DIR || join(process.cwd(), '.data');
  const registrationMode = (env.REGISTRATION_MODE || 'admin_only') as RegistrationMode;
  if (!['enabled', 'disabled', 'admin_only'].includes(registrationMode)) {
    problems.push(`REGISTRATION_MODE must be enabled, disabled or admin_only, not "${registrationMode}"`);
  }
  const builderKey = env.DEIS_BUILDER_KEY ?? '';
  if (builderKey.length < 16) problems.push('DEIS_BUILDER_KEY must be set to a secret of at least 16 characters');

  const settings: ControllerSettings = {
    host: env.DEIS_CONTROLLER_HOST || '127.0.0.1',
    port: integer('DEIS_CONTROLLER_PORT', 8000, 0, 65535),
    databaseUrl: env.DATABASE_URL || join(dataDir, 'controller.sqlite'),
    builderKey,
    registrationMode,
    platformDomain: env.DEIS_PLATFORM_DOMAIN || 'localhost',
    deployHookUrls: parseHookUrls(env.DEIS_DEPLOY_HOOK_URLS ?? '', problems),
    deployHookSecret: env.DEIS_DEPLOY_HOOK_SECRET_KEY || null,
    deployTimeoutMs: integer('DEIS_DEPLOY_TIMEOUT', 120, 1, 3600) * 1000,
    gracePeriodSeconds: integer('KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS', 30, 0, 3600),
    platformName: env.DEIS_PLATFORM_NAME || 'deis',
    procfileMissingRemove: flag('DEIS_DEPLOY_PROCFILE_MISSING_REMOVE', true),
    rejectIfProcfileMissing: flag('DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING', false),
    nodeLabels: parseLabels(env.DEIS_NODE_LABELS ?? '', problems),
    logLevel: env.DEIS_LOG_LEVEL || 'info',
    imagesKeptPerApp: integer('DEIS_IMAGES_KEPT', DEFAULT_IMAGES_KEPT, 1, 10_000),
    releasesKeptPerApp: integer('DEIS_RELEASES_KEPT', DEFAULT_RELEASES_KEPT, 2, 1_000_000),
    builderHttpUpstream: parseUpstream('DEIS_BUILDER_HTTP_UPSTREAM', env.DEIS_BUILDER_HTTP_UPSTREAM ?? '', problems),
    controllerUpstream: parseUpstream('DEIS_CONTROLLER_UPSTREAM', env.DEIS_CONTROLLER_UPSTREAM ?? '', problems),
    limits: Object.freeze({
      scalePerType: integer('DEIS_LIMIT_SCALE_PER_TYPE', DEFAULT_LIMITS.scalePerType, 1, 10_000),
      containersPerApp: integer('DEIS_LIMIT_CONTAINERS_PER_APP', DEFAULT_LIMITS.containersPerApp, 1, 10_000),
      containersPerUser: integer('DEIS_LIMIT_CONTAINERS_PER_USER', DEFAULT_LIMITS.containersPerUser, 1, 100_000),
      runsPerApp: integer('DEIS_LIMIT_RUNS_PER_APP', DEFAULT_LIMITS.runsPerApp, 1, 1_000),
      runsPerUser: integer('DEIS_LIMIT_RUNS_PER_USER', DEFAULT_LIMITS.runsPerUser, 1, 1_000),
      runOutputBytes: integer('DEIS_LIMIT_RUN_OUTPUT_BYTES', DEFAULT_LIMITS.runOutputBytes, 1024, 64 * 1024 * 1024),
      configValues: integer('DEIS_LIMIT_CONFIG_VALUES', DEFAULT_LIMITS.configValues, 1, 100_000),
      configBytes: integer('DEIS_LIMIT_CONFIG_BYTES', DEFAULT_LIMITS.configBytes, 1024, 16 * 1024 * 1024),
      appDeployTimeoutSeconds: integer('DEIS_LIMIT_APP_DEPLOY_TIMEOUT', DEFAULT_LIMITS.appDeployTimeoutSeconds, 1, 3600),
      appGracePeriodSeconds: integer('DEIS_LIMIT_APP_GRACE_PERIOD', DEFAULT_LIMITS.appGracePeriodSeconds, 0, 3600),
    }),
    releasePhaseTimeoutMs: integer('DEIS_RELEASE_PHASE_TIMEOUT', DEFAULT_RELEASE_PHASE_TIMEOUT_SECONDS, 1, 3600) * 1000,
    logDir: join(dataDir, 'logs'),
    logLinesPerApp: integer('DEIS_LOG_LINES', 1_500, 1, 1_000_000),
    drainsAllowPrivate: flag('DEIS_LOG_DRAINS_ALLOW_PRIVATE', false),
    drainsCaFile: env.DEIS_LOG_DRAINS_CA_FILE || null,
    registry: env.DEIS_REGISTRY?.trim() || null,
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return Object.freeze(settings);
}
