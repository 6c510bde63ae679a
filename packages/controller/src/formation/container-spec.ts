/**
 * What a release asks of the scheduler: the container spec of one process type (image, command, env, labels, limits,
 * port) and its readiness check, by the rules of the contract (§1.4, §6.2–6.5). Pure: the caller loads the rows.
 * @module
 */
import type { Healthcheck, Probe } from '@deis/sdk/types';
import type { ContainerSpec, ReadinessCheck } from '@deis/scheduler/scheduler';

export type BuildType = 'dockerfile' | 'buildpack' | 'image';

export interface ReleaseBuild {
  uuid: string;
  image: string;
  sha: string;
  procfile: Record<string, string>;
  dockerfile: string;
}

export interface ReleaseConfig {
  values: Record<string, string>;
  memory: Record<string, string>;
  cpu: Record<string, string>;
  /** Keyed by process type (`web/cmd` covers both), or one unkeyed pair of probes for web/cmd. */
  healthcheck: Record<string, unknown>;
  /** `deis tags`: node labels every container of the release requires (ContainerSpec.placement); absent: none. */
  tags?: Record<string, string>;
}

/**
 * The shell the commands of Dockerfile and image apps (Procfile types, one-off runs) run under: bash, as Deis ran
 * them, when the image has it, so bash syntax works; sh only in images without bash.
 */
export type CommandShell = '/bin/bash' | '/bin/sh';

/** Everything a container of one release needs, already loaded. */
export interface ReleaseContext {
  appUuid: string;
  appId: string;
  releaseUuid: string;
  version: number;
  summary: string;
  /** Store time of the release. */
  created: string;
  build: ReleaseBuild;
  config: ReleaseConfig;
  /** The port web/cmd containers listen on (`PORT`). */
  port: number;
  /** What Dockerfile and image apps' commands run under; buildpack apps run theirs through the slug's runner. */
  shell: CommandShell;
}

/** Label keys every platform container carries; the scheduler filters by them. */
export const LABEL = {
  platform: 'io.deis.platform',
  app: 'io.deis.app',
  type: 'io.deis.type',
  release: 'io.deis.release',
} as const;

/** The process type of one-off containers; never in a structure, never listed as a pod. */
export const RUN_TYPE = 'run';

/**
 * The Procfile type Heroku runs once per release before its containers start (release-phase.ts); like `run`, never
 * in a structure and never given containers of its own.
 */
export const RELEASE_TYPE = 'release';

/** Only these types receive HTTP traffic (contract §6.2). */
export function isRoutableType(type: string): boolean {
  return type === 'web' || type === 'cmd';
}

export function buildType(build: Pick<ReleaseBuild, 'sha' | 'dockerfile'>): BuildType {
  if (build.dockerfile !== '') return 'dockerfile';
  if (build.sha !== '') return 'buildpack';
  return 'image';
}

/** The structure a first deploy gets (Deis `_default_structure`). */
export function defaultStructure(build: ReleaseBuild): Record<string, number> {
  if ('web' in build.procfile) return { web: 1 };
  if (build.sha === '') return { cmd: 1 };
  if (build.dockerfile !== '') return { cmd: 1 };
  if (Object.keys(build.procfile).some((type) => type !== RELEASE_TYPE)) return {};
  return { web: 1 };
}

/**
 * `PORT`: the config's, else 5000 for buildpack apps, else the image's first EXPOSEd port, else 5000 (contract §6.3).
 * @param imagePorts what the scheduler says the image EXPOSEs; null when it does not know the image
 */
export function releasePort(build: ReleaseBuild, values: Record<string, string>, imagePorts: number[] | null): number {
  const configured = Number(values.PORT);
  if (values.PORT !== undefined && Number.isInteger(configured) && configured >= 1 && configured <= 65535) return configured;
  if (buildType(build) === 'buildpack') return 5000;
  return imagePorts?.[0] ?? 5000;
}

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** The part of a `request/limit` value that limits the container. */
function limitPart(value: string): string {
  const slash = value.indexOf('/');
  return slash === -1 ? value : value.slice(slash + 1);
}

/** `64M`, `1GB`, `0/100M` → bytes; `0` or anything unreadable → unlimited (undefined). */
export function memoryBytes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^([0-9]+)([a-z]*)$/i.exec(limitPart(value).trim());
  const unit = match ? MEMORY_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return bytes > 0 ? bytes : undefined;
}

/** `500m`, `1`, `0.5`, `100m/1` → thousandths of a core; `0` or unreadable → unlimited. */
export function cpuMillis(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\+?([0-9]*\.?[0-9]+)(m?)$/.exec(limitPart(value).trim());
  if (!match) return undefined;
  const millis = match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
  return millis > 0 ? Math.round(millis) : undefined;
}

function isProbePair(value: unknown): value is Healthcheck {
  return typeof value === 'object' && value !== null && ('readinessProbe' in value || 'livenessProbe' in value);
}

/** The probes that apply to a type: its own entry, else `web/cmd` for web and cmd, else an unkeyed pair for web/cmd. */
export function healthcheckFor(healthcheck: Record<string, unknown>, type: string): Healthcheck | undefined {
  const own = healthcheck[type];
  if (isProbePair(own)) return own;
  if (!isRoutableType(type)) return undefined;
  const shared = healthcheck['web/cmd'];
  if (isProbePair(shared)) return shared;
  return isProbePair(healthcheck) ? healthcheck : undefined;
}

function probeCheck(probe: Probe, port: number): ReadinessCheck | null {
  if (probe.httpGet) {
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return { kind: 'http', port: probe.httpGet.port ?? port, path: probe.httpGet.path || '/', ...(Object.keys(headers).length > 0 ? { headers } : {}) };
  }
  if (probe.tcpSocket) return { kind: 'tcp', port: probe.tcpSocket.port ?? port };
  if (probe.exec && probe.exec.command.length > 0) return { kind: 'exec', command: probe.exec.command };
  return null;
}

/**
 * How to tell that a new container may serve: its readiness probe, else a TCP connect to PORT for web/cmd.
 * Null for other types without a probe: they are ready once they run.
 */
export function readinessCheck(context: ReleaseContext, type: string): ReadinessCheck | null {
  const probe = healthcheckFor(context.config.healthcheck, type)?.readinessProbe;
  const fromProbe = probe ? probeCheck(probe, context.port) : null;
  if (fromProbe) return fromProbe;
  return isRoutableType(type) ? { kind: 'tcp', port: context.port } : null;
}

export interface PeriodicCheck {
  check: ReadinessCheck;
  /** Consecutive failures that get a container replaced (liveness) or taken out of traffic (readiness). */
  failureThreshold: number;
  /** Consecutive passes that bring a container that was not ready back into traffic. */
  successThreshold: number;
  /** No checks this soon after the container started. */
  initialDelayMs: number;
  /** How long one check may take. */
  timeoutMs: number;
  /** From the start of one check to the start of the next. */
  periodMs: number;
}

/** A probe's check and timing, with Kubernetes' defaults for the fields it leaves out; null without a check. */
function probeTiming(probe: Probe | undefined, port: number): PeriodicCheck | null {
  const check = probe ? probeCheck(probe, port) : null;
  if (!probe || !check) return null;
  const positive = (value: number | undefined, fallback: number) => (typeof value === 'number' && value > 0 ? value : fallback);
  return {
    check,
    failureThreshold: positive(probe.failureThreshold, 3),
    successThreshold: positive(probe.successThreshold, 1),
    initialDelayMs: (typeof probe.initialDelaySeconds === 'number' && probe.initialDelaySeconds > 0 ? probe.initialDelaySeconds : 0) * 1000,
    timeoutMs: positive(probe.timeoutSeconds, 1) * 1000,
    periodMs: positive(probe.periodSeconds, 10) * 1000,
  };
}

/** The type's liveness probe, if the config has one. */
export function livenessCheck(context: ReleaseContext, type: string): PeriodicCheck | null {
  return probeTiming(healthcheckFor(context.config.healthcheck, type)?.livenessProbe, context.port);
}

/** The type's readiness probe as set in the config, for the checks that go on after the deploy; null without one. */
export function configuredReadiness(context: ReleaseContext, type: string): PeriodicCheck | null {
  return probeTiming(healthcheckFor(context.config.healthcheck, type)?.readinessProbe, context.port);
}

/** The environment of every container of the release; config values win over the platform's (contract §1.4). */
export function releaseEnv(context: ReleaseContext): Record<string, string> {
  const env: Record<string, string> = {
    DEIS_APP: context.appId,
    WORKFLOW_RELEASE: `v${context.version}`,
    WORKFLOW_RELEASE_SUMMARY: context.summary,
    WORKFLOW_RELEASE_CREATED_AT: `${context.created.slice(0, 19)}Z`,
    PORT: String(context.port),
  };
  if (context.build.sha !== '') env.SOURCE_VERSION = context.build.sha;
  return { ...env, ...context.config.values };
}

export function releaseLabels(platformName: string, context: ReleaseContext, type: string): Record<string, string> {
  return { [LABEL.platform]: platformName, [LABEL.app]: context.appId, [LABEL.type]: type, [LABEL.release]: `v${context.version}` };
}

/**
 * The entrypoint of every container of a buildpack app's slug image: it sets up the slug's environment (HOME, PORT,
 * `.profile.d`) and then runs `start <type>` from the slug's Procfile, or any other command it is given.
 */
export const SLUG_RUNNER = '/runner/init';

/**
 * The spec of one container of `type`. Buildpack apps run `/runner/init start <type>` (contract §1.4); for others a
 * Procfile type runs its command under `<shell> -c` (bash when the image has it), and the rest the image's CMD.
 */
export function containerSpec(platformName: string, context: ReleaseContext, type: string, name: string): ContainerSpec {
  const command = context.build.procfile[type];
  const spec: ContainerSpec = {
    name,
    image: context.build.image,
    env: releaseEnv(context),
    labels: releaseLabels(platformName, context, type),
  };
  if (buildType(context.build) === 'buildpack') {
    spec.entrypoint = [SLUG_RUNNER];
    spec.command = ['start', type];
  } else if (command !== undefined && command.trim() !== '') {
    spec.entrypoint = [context.shell, '-c'];
    spec.command = [command];
  }
  const memory = memoryBytes(context.config.memory[type]);
  if (memory !== undefined) spec.memoryBytes = memory;
  const cpu = cpuMillis(context.config.cpu[type]);
  if (cpu !== undefined) spec.cpuMillis = cpu;
  if (isRoutableType(type)) spec.port = context.port;
  const placement = placementOf(context);
  if (placement) spec.placement = placement;
  return spec;
}

/** The release's tags as placement, or undefined without any (a spec then says nothing about nodes). */
function placementOf(context: ReleaseContext): Record<string, string> | undefined {
  const tags = context.config.tags ?? {};
  return Object.keys(tags).length > 0 ? { ...tags } : undefined;
}

/**
 * A one-off container of the release running `command` (`deis run`): under `<shell> -c`, or for a slug through its
 * runner, which gives it the slug's environment, with bash (the build stack has it). Its limits are those set for
 * the type `run` (`deis limits:set run=1G`), as Deis gave one-off pods; without them the scheduler's defaults hold.
 */
export function runSpec(platformName: string, context: ReleaseContext, name: string, command: string): ContainerSpec {
  const slug = buildType(context.build) === 'buildpack';
  const memory = memoryBytes(context.config.memory[RUN_TYPE]);
  const cpu = cpuMillis(context.config.cpu[RUN_TYPE]);
  const placement = placementOf(context);
  return {
    ...(memory !== undefined ? { memoryBytes: memory } : {}),
    ...(cpu !== undefined ? { cpuMillis: cpu } : {}),
    ...(placement ? { placement } : {}),
    name,
    image: context.build.image,
    entrypoint: slug ? [SLUG_RUNNER, '/bin/bash', '-c'] : [context.shell, '-c'],
    command: [command],
    env: releaseEnv(context),
    labels: releaseLabels(platformName, context, RUN_TYPE),
  };
}
