/**
 * The scheduler on one Docker engine (dockerode over /var/run/docker.sock). Containers join only the platform's
 * network and publish no ports: the platform reaches them at their address on that network. They run with an init
 * process (so SIGTERM reaches the app even before it installs a handler) and no restart policy: the controller's
 * reconciler decides what comes back. Every container carries `io.deis.platform=<platform name>`, and this scheduler
 * sees only its own platform's containers.
 *
 * It trusts only the containers it made itself: each carries the platform's secret container key as a label, and
 * `list`, `watch` and everything that takes a name ignore the rest. Labels alone prove nothing: a Dockerfile's `LABEL`
 * lines are inherited by its build's `RUN` containers, so a build can carry any app's `io.deis.*` labels.
 *
 * Containers hold no more power than a web app needs: every capability dropped but a few, no gaining privileges
 * through setuid binaries, a limit on processes (a fork bomb stops there) and a default memory limit for specs that
 * set none. See docs/security.md.
 *
 * A container whose process cannot even be executed (a command that does not exist) is reported as crashed, with the
 * engine's reason as its last line, rather than as a failed `start`: to a deploy it is an app that did not come up.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import Docker from 'dockerode';
import type { ContainerCreateOptions, ContainerInspectInfo } from 'dockerode';
import { ContainerNameInUseError, ImageInUseError, ImageNotFoundError, ImagePullDeniedError, NotReadyError, SchedulerUnavailableError } from '../scheduler.ts';
import type {
  ClusterNode,
  Container,
  ContainerEvent,
  ContainerStats,
  ContainerSpec,
  ContainerState,
  FollowLogsOptions,
  LogLine,
  ProbeOptions,
  ReadinessCheck,
  RegistryLogin,
  RunOptions,
  RunResult,
  Scheduler,
  TerminalRun,
  TerminalRunOptions,
} from '../scheduler.ts';
import { OutputTail } from '../output-tail.ts';
import { deleteRegistryImage } from '../registry/platform-registry.ts';
import type { PlatformRegistry } from '../registry/platform-registry.ts';
import { cpuMillisOf } from './cpu-sample.ts';
import type { EngineStats } from './cpu-sample.ts';
import { createFrameParser, createTimestampedLineParser, parseTimestampedLogs, sinceAfter } from './log-frames.ts';
import { probeHttp, probeTcp } from './network-probes.ts';
import { ensureLinkLocalBlock, pruneLinkLocalBlocks } from './link-local-firewall.ts';
import { ensurePlatformNetwork } from './platform-network.ts';
import { attachedTerminalRun } from './terminal-run.ts';

export const PLATFORM_LABEL = 'io.deis.platform';
/** The port of ContainerSpec, kept on the container so `list` can report the address. */
export const PORT_LABEL = 'io.deis.scheduler.port';
/**
 * The spec's own labels as JSON: the engine reports a container's labels merged with its image's, and the caller
 * must get back exactly what it gave.
 */
export const SPEC_LABELS_LABEL = 'io.deis.scheduler.labels';
/** Holds the platform's secret container key: the mark of a container this scheduler made (see the module). */
const KEY_LABEL = 'io.deis.scheduler.key';
/**
 * What a typical web app needs of root's powers: to hand files to its user and become it (CHOWN, DAC_OVERRIDE,
 * FOWNER, SETUID, SETGID), to signal its own processes (KILL) and to listen on a port below 1024.
 */
export const APP_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'];
/** Marks the never-started containers imageHasFile reads an image's files through. */
const INSPECTION_LABEL = 'io.deis.scheduler.inspects-image';
/** Go's os.FileMode bits, as the engine reports a path's mode. */
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
/** imageHasFile's memory is dropped whole when it reaches this many answers. */
const IMAGE_FILES_REMEMBERED = 1_000;

/** How many of a container's last lines a NotReadyError carries. */
const LAST_LINES = 20;
/**
 * Between readiness probes: short at first, since most apps listen within a moment of their start and a rollout
 * waits for its slowest container, then longer, so an app that takes its time does not keep the engine busy.
 */
export const FIRST_PROBE_INTERVAL_MS = 20;
export const PROBE_INTERVAL_MS = 150;

export interface DockerSchedulerOptions {
  /** Default: the local engine's socket. */
  docker?: Docker;
  /** Value of `io.deis.platform` on every container; containers of other platforms are invisible. */
  platformName: string;
  networkName: string;
  /** Inside 100.64.0.0/10; used when the network has to be created. */
  networkSubnet: string;
  /** The platform's secret that marks the containers this scheduler made; kept from tenants (see the module). */
  containerKey: string;
  /** The memory limit of containers whose spec sets none; absent: none. */
  defaultMemoryBytes?: number;
  /** The most processes (threads included) one container may have; absent: the engine's default, unlimited. */
  pidsLimit?: number;
  /** `create` installs the firewall rule that keeps containers off link-local addresses; default true. */
  blockLinkLocal?: boolean;
  /**
   * The platform's registry the builder pushes to (ADR 0019): its images are pulled with its login, and deleted from
   * it when removed.
   */
  registry?: PlatformRegistry;
  /** The labels `listNodes` gives this host, the one node (DEIS_NODE_LABELS); default none. */
  nodeLabels?: Record<string, string>;
}

interface EngineError {
  statusCode?: number;
  json?: { message?: string };
  message?: string;
  code?: string;
}

/** The HTTP status of an engine's error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return (error as EngineError | null)?.statusCode;
}

function messageOf(error: unknown): string {
  const engine = error as EngineError | null;
  return (engine?.json?.message ?? engine?.message ?? String(error)).trim();
}

/**
 * The engine's answer to a request that was well formed is the caller's problem; no answer, or a 5xx, is the
 * engine's, and callers (the controller: 503) treat it so.
 */
function engineError(error: unknown, doing: string): Error {
  const status = statusOf(error);
  if (status === undefined || status >= 500) return new SchedulerUnavailableError(`Docker engine: ${doing}: ${messageOf(error)}`, { cause: error });
  return error instanceof Error ? error : new Error(messageOf(error));
}

/**
 * The registry host of an image reference (`127.0.0.1:5000` of `127.0.0.1:5000/app:v1`), or null for a Docker Hub
 * name: as the engine reads it, a first part with a dot, a colon or `localhost` names a registry.
 */
export function registryOf(image: string): string | null {
  const slash = image.indexOf('/');
  if (slash === -1) return null;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : null;
}

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** What a failed pull means, from the registry's answer as the engine words it. */
export function pullError(image: string, message: string): Error {
  if (/denied|unauthorized|authentication required|no basic auth credentials|forbidden/i.test(message)) return new ImagePullDeniedError(image, message);
  if (/not found|manifest unknown|name unknown|not known to registry|does not exist/i.test(message)) return new ImageNotFoundError(image);
  return new Error(`could not pull image ${image}: ${message}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function specLabels(labels: Record<string, string> | undefined | null): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(labels?.[SPEC_LABELS_LABEL] ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function stateOf(info: ContainerInspectInfo): ContainerState {
  switch (info.State.Status) {
    case 'running':
    case 'paused':
      return info.State.Health?.Status === 'starting' ? 'starting' : 'up';
    case 'created':
    case 'restarting':
      // A container that could not be executed stays "created" with the engine's reason and an exit code.
      return info.State.Error || info.State.ExitCode ? 'crashed' : 'starting';
    case 'exited':
    case 'dead':
      return info.State.ExitCode === 0 && !info.State.Error ? 'down' : 'crashed';
    default:
      return 'down';
  }
}

function exitCodeOf(info: ContainerInspectInfo, state: ContainerState): number | null {
  if (state !== 'down' && state !== 'crashed') return null;
  // A process that could not be executed has no exit code of its own; 127 is what a shell would say.
  return info.State.ExitCode === 0 && state === 'crashed' ? 127 : info.State.ExitCode;
}

export class DockerScheduler implements Scheduler {
  readonly docker: Docker;
  readonly platformName: string;
  readonly networkName: string;
  readonly networkSubnet: string;
  readonly #containerKey: string;
  readonly #defaultMemoryBytes: number | undefined;
  readonly #pidsLimit: number | undefined;
  readonly #blockLinkLocal: boolean;
  readonly #registry: PlatformRegistry | undefined;
  readonly #watches = new Set<() => void>();
  /** imageHasFile's answers, by image ID and path. */
  readonly #imageFiles = new Map<string, boolean>();
  #hostCpus: Promise<number> | undefined;
  readonly #nodeLabels: Record<string, string>;

  constructor(options: DockerSchedulerOptions) {
    this.docker = options.docker ?? new Docker();
    this.platformName = options.platformName;
    this.networkName = options.networkName;
    this.networkSubnet = options.networkSubnet;
    // A short key could be guessed by a tenant who labels a build with each guess in turn.
    if (options.containerKey.length < 16) throw new Error('the container key must have at least 16 characters');
    this.#containerKey = options.containerKey;
    this.#defaultMemoryBytes = options.defaultMemoryBytes;
    this.#pidsLimit = options.pidsLimit;
    this.#blockLinkLocal = options.blockLinkLocal ?? true;
    this.#registry = options.registry;
    this.#nodeLabels = { ...options.nodeLabels };
  }

  /** A scheduler whose network exists; fails if the engine is unreachable. */
  static async create(options: DockerSchedulerOptions): Promise<DockerScheduler> {
    const scheduler = new DockerScheduler(options);
    try {
      await scheduler.docker.ping();
    } catch (error) {
      throw new SchedulerUnavailableError(`the Docker engine does not answer: ${messageOf(error)}`, { cause: error });
    }
    await ensurePlatformNetwork(scheduler.docker, scheduler.networkName, scheduler.networkSubnet);
    await scheduler.#ensureLinkLocalBlock();
    if (scheduler.#blockLinkLocal) {
      const networks = (await scheduler.docker.listNetworks()) as Array<{ Name: string }>;
      await pruneLinkLocalBlocks(new Set(networks.map((network) => network.Name)));
    }
    return scheduler;
  }

  async #ensureLinkLocalBlock(): Promise<void> {
    if (this.#blockLinkLocal) await ensureLinkLocalBlock(this.networkName, this.networkSubnet);
  }

  /** Stops every watch; the engine's event streams are closed. */
  close(): void {
    for (const stop of [...this.#watches]) stop();
  }

  /**
   * The engine refuses a CPU limit above the host's core count or below a hundredth of a core; a limit above the
   * host's capacity means no limit, so it is lowered to the capacity rather than failing the deploy.
   */
  async #nanoCpus(cpuMillis: number): Promise<number> {
    this.#hostCpus ??= this.docker.info().then((info: { NCPU?: number }) => info.NCPU ?? 1).catch((error: unknown) => {
      this.#hostCpus = undefined;
      throw engineError(error, 'reading the host CPU count');
    });
    const cores = await this.#hostCpus;
    return Math.max(10_000_000, Math.min(Math.round(cpuMillis * 1_000_000), cores * 1_000_000_000));
  }

  #createOptions(spec: ContainerSpec, nanoCpus: number | undefined, terminal = false): ContainerCreateOptions {
    const labels: Record<string, string> = {
      ...spec.labels,
      [PLATFORM_LABEL]: this.platformName,
      [KEY_LABEL]: this.#containerKey,
      [SPEC_LABELS_LABEL]: JSON.stringify(spec.labels),
    };
    const memory = spec.memoryBytes ?? this.#defaultMemoryBytes;
    if (spec.port !== undefined) labels[PORT_LABEL] = String(spec.port);
    return {
      name: spec.name,
      Image: spec.image,
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.command ? { Cmd: spec.command } : {}),
      ...(terminal ? { Tty: true, OpenStdin: true, AttachStdin: true, AttachStdout: true, AttachStderr: true } : {}),
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      Labels: labels,
      // What an app prints as its hostname identifies the container, as a pod name does.
      Hostname: spec.name.slice(0, 63).replace(/[^a-zA-Z0-9-]/g, '-').replace(/^-+|-+$/g, '') || undefined,
      HostConfig: {
        Init: true,
        NetworkMode: this.networkName,
        RestartPolicy: { Name: 'no' },
        ...(memory !== undefined ? { Memory: memory } : {}),
        ...(nanoCpus !== undefined ? { NanoCpus: nanoCpus } : {}),
        ...(this.#pidsLimit !== undefined ? { PidsLimit: this.#pidsLimit } : {}),
        CapDrop: ['ALL'],
        CapAdd: APP_CAPABILITIES,
        SecurityOpt: ['no-new-privileges'],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
      NetworkingConfig: { EndpointsConfig: { [this.networkName]: {} } },
    };
  }

  async #create(spec: ContainerSpec, terminal = false): Promise<Docker.Container> {
    const nanoCpus = spec.cpuMillis !== undefined && spec.cpuMillis > 0 ? await this.#nanoCpus(spec.cpuMillis) : undefined;
    try {
      return await this.docker.createContainer(this.#createOptions(spec, nanoCpus, terminal));
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 && /no such image/i.test(messageOf(error))) throw new ImageNotFoundError(spec.image);
      if (status === 409) throw new ContainerNameInUseError(spec.name);
      throw engineError(error, `creating container ${spec.name}`);
    }
  }

  /** Starts a created container; an engine refusal to execute the process leaves it crashed (see the module). */
  async #start(container: Docker.Container, name: string): Promise<void> {
    try {
      await container.start();
    } catch (error) {
      const status = statusOf(error);
      // Only the runtime's refusal to execute the process is the app's failure; anything else is the engine's.
      if (status === undefined || !/OCI runtime|exec:|executable|exec format|permission denied/i.test(messageOf(error))) {
        throw engineError(error, `starting container ${name}`);
      }
      const info = await this.#inspect(name);
      if (!info || stateOf(info) !== 'crashed') throw engineError(error, `starting container ${name}`);
    }
  }

  /** Whether the engine's labels of a container say this scheduler made it. */
  #isOwn(labels: Record<string, string> | undefined | null): boolean {
    return labels?.[PLATFORM_LABEL] === this.platformName && labels[KEY_LABEL] === this.#containerKey;
  }

  /** The label filter of `list` and `watch`: the caller's labels, and the marks of this scheduler's containers. */
  #labelFilter(labels: Record<string, string>): string[] {
    return Object.entries({ ...labels, [PLATFORM_LABEL]: this.platformName, [KEY_LABEL]: this.#containerKey }).map(([k, v]) => `${k}=${v}`);
  }

  /** The container this scheduler made with that name, or undefined. */
  async #inspect(name: string): Promise<ContainerInspectInfo | undefined> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      if (!this.#isOwn(info.Config.Labels)) return undefined;
      return info;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw engineError(error, `inspecting container ${name}`);
    }
  }

  #toContainer(info: ContainerInspectInfo): Container {
    const state = stateOf(info);
    const port = Number(info.Config.Labels?.[PORT_LABEL]);
    const ip = info.NetworkSettings.Networks?.[this.networkName]?.IPAddress;
    const started = info.State.StartedAt && !info.State.StartedAt.startsWith('0001-') ? new Date(info.State.StartedAt) : null;
    return {
      name: info.Name.replace(/^\//, ''),
      labels: specLabels(info.Config.Labels),
      state,
      startedAt: started,
      address: state === 'up' && ip && Number.isInteger(port) && port > 0 ? { host: ip, port } : null,
      exitCode: exitCodeOf(info, state),
    };
  }

  async #createAndStart(spec: ContainerSpec, networkRetried = false): Promise<Docker.Container> {
    const container = await this.#create(spec);
    try {
      await this.#start(container, spec.name);
      return container;
    } catch (error) {
      // A container that never ran would only hold its name.
      await container.remove({ force: true }).catch(() => undefined);
      // The engine looks the network up at start: someone removed it (`docker network prune` does, when it is empty).
      if (statusOf(error) === 404 && /network/i.test(messageOf(error)) && !networkRetried) {
        await ensurePlatformNetwork(this.docker, this.networkName, this.networkSubnet);
        // Another platform's start may have pruned the rule while the network was gone.
        await this.#ensureLinkLocalBlock();
        return this.#createAndStart(spec, true);
      }
      throw error;
    }
  }

  async start(spec: ContainerSpec): Promise<Container> {
    await this.#createAndStart(spec);
    const info = await this.#inspect(spec.name);
    if (!info) throw new SchedulerUnavailableError(`Docker engine: container ${spec.name} vanished right after it started`);
    return this.#toContainer(info);
  }

  async #lastLines(name: string, info?: ContainerInspectInfo): Promise<string[]> {
    const lines = (await this.logs(name, LAST_LINES).catch(() => [])).map((line) => line.text);
    if (info?.State.Error) lines.push(info.State.Error);
    return lines.slice(-LAST_LINES);
  }

  async #exec(name: string, command: string[], timeoutMs: number): Promise<string | null> {
    const container = this.docker.getContainer(name);
    const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const ended = await Promise.race([
        new Promise<boolean>((resolve) => {
          stream.on('data', () => undefined);
          stream.once('end', () => resolve(true));
          stream.once('close', () => resolve(true));
          stream.once('error', () => resolve(true));
        }),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      if (!ended) return `${command.join(' ')} did not finish within ${timeoutMs} ms`;
      // The stream can end a moment before the engine records the exit code.
      for (let attempt = 0; attempt < 20; attempt++) {
        const result = await exec.inspect();
        if (!result.Running && result.ExitCode !== null) return result.ExitCode === 0 ? null : `${command.join(' ')} exited with code ${result.ExitCode}`;
        await sleep(25);
      }
      return `${command.join(' ')} did not report an exit code`;
    } finally {
      clearTimeout(timer);
      stream.destroy();
    }
  }

  async #probe(name: string, info: ContainerInspectInfo, check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
    if (check.kind === 'exec') {
      try {
        return await this.#exec(name, check.command, timeoutMs);
      } catch (error) {
        return `exec ${check.command.join(' ')}: ${messageOf(error)}`;
      }
    }
    const host = info.NetworkSettings.Networks?.[this.networkName]?.IPAddress;
    if (!host) return `the container has no address on network ${this.networkName}`;
    if (check.kind === 'tcp') return probeTcp(host, check.port, timeoutMs);
    return probeHttp(host, check.port, check.path, check.headers ?? {}, timeoutMs);
  }

  async waitReady(name: string, check: ReadinessCheck, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let why = 'no check has run yet';
    for (let interval = FIRST_PROBE_INTERVAL_MS; ; interval = Math.min(interval * 2, PROBE_INTERVAL_MS)) {
      const info = await this.#inspect(name);
      if (!info) throw new NotReadyError(`container ${name} does not exist`, []);
      const state = stateOf(info);
      if (state === 'down' || state === 'crashed') {
        throw new NotReadyError(`container ${name} exited with code ${exitCodeOf(info, state)} before it became ready`, await this.#lastLines(name, info));
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new NotReadyError(`container ${name} did not become ready within ${Math.round(timeoutMs / 100) / 10} s: ${why}`, await this.#lastLines(name, info), {
          timedOut: true,
        });
      }
      // An image's own HEALTHCHECK may still say "starting"; the platform's check is the one that counts here.
      if (info.State.Running) {
        const result = await this.#probe(name, info, check, Math.min(remaining, 2_000));
        if (result === null) return;
        why = result;
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
    }
  }

  async stop(name: string, graceSeconds: number): Promise<void> {
    if (!(await this.#inspect(name))) return;
    const container = this.docker.getContainer(name);
    try {
      await container.stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (error) {
      // 304: not running; 404: gone meanwhile.
      const status = statusOf(error);
      if (status !== 304 && status !== 404) throw engineError(error, `stopping container ${name}`);
    }
    try {
      await container.remove({ force: true });
    } catch (error) {
      // 409: another caller's removal is already in progress.
      const status = statusOf(error);
      if (status !== 404 && status !== 409) throw engineError(error, `removing container ${name}`);
    }
  }

  async list(labels: Record<string, string>): Promise<Container[]> {
    let summaries: Docker.ContainerInfo[];
    try {
      summaries = await this.docker.listContainers({ all: true, filters: { label: this.#labelFilter(labels) } });
    } catch (error) {
      throw engineError(error, 'listing containers');
    }
    const infos = await Promise.all(summaries.map((summary) => this.#inspect(summary.Id)));
    return infos.filter((info): info is ContainerInspectInfo => info !== undefined).map((info) => this.#toContainer(info));
  }

  async run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    const container = await this.#createAndStart(spec);
    const output = new OutputTail(options.maxOutputBytes);
    try {
      // Following the log from its beginning misses nothing, however early the process prints; an attach made before
      // the start can (the engine answers the attach before it subscribes to the output).
      const stream = await container.logs({ follow: true, stdout: true, stderr: true });
      const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
      const emit = (text: string) => {
        if (text === '') return;
        output.push(text);
        options.onOutput?.(text);
      };
      stream.on('data', createFrameParser((name, payload) => emit(decoders[name].write(payload))));
      const ended = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exited = await Promise.race([
        container.wait().then((result: { StatusCode: number }) => result.StatusCode),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), options.timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (exited === null) {
        throw new Error(`one-off container ${spec.name} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`);
      }
      // The log stream ends once the engine has copied the last output, which can be just after the exit.
      await Promise.race([ended, sleep(5_000)]);
      (stream as unknown as { destroy(): void }).destroy();
      emit(decoders.stdout.end() + decoders.stderr.end());
      // A last line without a newline can miss the followed stream (the engine writes it as the output closes); the
      // whole log, read now that the container has stopped, has it. Not once output was dropped: the whole log is
      // then larger than the tail, and reading it would hold all of it at once.
      if (output.droppedBytes === 0) emit(await this.#missedOutput(container, output.text()));
      const info = await this.#inspect(spec.name);
      if (info?.State.Error && exited !== 0) emit(`${info.State.Error}\n`);
      return { exitCode: info ? (exitCodeOf(info, stateOf(info)) ?? exited) : exited, output: output.text() };
    } catch (error) {
      throw statusOf(error) === undefined ? error : engineError(error, `running ${spec.name}`);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  /** What a stopped container's whole log holds beyond `seen`, its beginning; nothing when the two differ otherwise. */
  async #missedOutput(container: Docker.Container, seen: string): Promise<string> {
    let buffer: Buffer;
    try {
      const read = await container.logs({ follow: false, stdout: true, stderr: true });
      buffer = Buffer.isBuffer(read) ? read : Buffer.from(read as unknown as string);
    } catch {
      return '';
    }
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    let text = '';
    createFrameParser((name, payload) => (text += decoders[name].write(payload)))(buffer);
    text += decoders.stdout.end() + decoders.stderr.end();
    return text.length > seen.length && text.startsWith(seen) ? text.slice(seen.length) : '';
  }

  async logs(name: string, lines: number): Promise<LogLine[]> {
    if (lines <= 0 || !(await this.#inspect(name))) return [];
    try {
      const buffer = await this.docker.getContainer(name).logs({ stdout: true, stderr: true, timestamps: true, tail: Math.floor(lines), follow: false });
      return parseTimestampedLogs(Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer as unknown as string));
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw engineError(error, `reading the logs of ${name}`);
    }
  }

  async imagePorts(image: string): Promise<number[] | null> {
    try {
      const info = await this.docker.getImage(image).inspect();
      const exposed = Object.keys(info.Config?.ExposedPorts ?? {});
      return exposed
        .map((key) => /^(\d+)(?:\/tcp)?$/.exec(key)?.[1])
        .filter((port): port is string => port !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw engineError(error, `inspecting image ${image}`);
    }
  }

  async imageHasFile(image: string, path: string): Promise<boolean | null> {
    let id: string;
    try {
      id = (await this.docker.getImage(image).inspect()).Id;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw engineError(error, `inspecting image ${image}`);
    }
    const key = `${id}\0${path}`;
    const known = this.#imageFiles.get(key);
    if (known !== undefined) return known;
    // The engine reads an image's files only through a container; this one is never started and has no network.
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({ Image: id, Entrypoint: [path], Cmd: [], Labels: { [INSPECTION_LABEL]: this.platformName }, HostConfig: { NetworkMode: 'none' } });
    } catch (error) {
      throw engineError(error, `reading the files of image ${image}`);
    }
    try {
      const found = await this.#isExecutable(container, path, 0);
      if (this.#imageFiles.size >= IMAGE_FILES_REMEMBERED) this.#imageFiles.clear();
      this.#imageFiles.set(key, found);
      return found;
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Whether `path` in a created container is an executable file, following up to a few symbolic links. */
  async #isExecutable(container: Docker.Container, path: string, links: number): Promise<boolean> {
    let stat: { mode?: number; linkTarget?: string };
    try {
      const response = (await container.infoArchive({ path })) as unknown as IncomingMessage;
      response.resume();
      const header = response.headers['x-docker-container-path-stat'];
      stat = JSON.parse(Buffer.from(typeof header === 'string' ? header : '', 'base64').toString() || '{}') as typeof stat;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw engineError(error, `reading ${path} in an image`);
    }
    const mode = stat.mode ?? 0;
    if (mode & GO_MODE_SYMLINK) {
      if (!stat.linkTarget || links >= 8) return false;
      return this.#isExecutable(container, posix.resolve(posix.dirname(path), stat.linkTarget), links + 1);
    }
    return (mode & GO_MODE_DIR) === 0 && (mode & 0o111) !== 0;
  }

  async ensureImage(image: string, login?: RegistryLogin): Promise<void> {
    if ((await this.imagePorts(image)) !== null) return;
    const registry = registryOf(image);
    if (this.#registry && registry === this.#registry.address) login = this.#registry.login;
    // One host reaches no registry but one on itself (ADR 0007) or the platform's: asking any other would send the
    // engine off the host.
    else if (registry === null || !isLoopbackRegistry(registry)) throw new ImageNotFoundError(image);
    let events: Array<{ error?: string; errorDetail?: { message?: string } }>;
    try {
      // The login goes to the engine (X-Registry-Auth) for this pull only; the engine keeps nothing of it.
      const stream = await this.docker.pull(image, login ? { authconfig: { username: login.username, password: login.password, serveraddress: registry } } : {});
      events = await new Promise((resolve, reject) => {
        this.docker.modem.followProgress(stream, (error: Error | null, output: typeof events) => (error ? reject(error) : resolve(output)));
      });
    } catch (error) {
      if (statusOf(error) === undefined) throw engineError(error, `pulling image ${image}`);
      throw pullError(image, messageOf(error));
    }
    const failure = events.find((event) => event.error);
    if (failure) throw pullError(image, failure.errorDetail?.message ?? failure.error ?? '');
  }

  async removeImage(reference: string): Promise<void> {
    try {
      // Not forced: by name, the engine only untags an image other names still hold, and refuses (409) to untag the
      // last name of one a container uses. Its untagged parents (a build's steps) go too, unless another image has
      // them, as with `docker rmi`.
      await this.docker.getImage(reference).remove({ force: false });
    } catch (error) {
      const status = statusOf(error);
      if (status === 409) throw new ImageInUseError(reference, messageOf(error));
      if (status !== 404) throw engineError(error, `removing image ${reference}`);
    }
    // Its layers go at the registry's next garbage collection (the registry role's).
    if (this.#registry && registryOf(reference) === this.#registry.address) {
      try {
        await deleteRegistryImage(this.#registry, reference);
      } catch (error) {
        throw new SchedulerUnavailableError(`deleting ${reference} from the registry: ${messageOf(error)}`, { cause: error });
      }
    }
  }

  watch(labels: Record<string, string>, listener: (event: ContainerEvent) => void): () => void {
    const wanted = this.#labelFilter(labels);
    let stopped = false;
    let current: NodeJS.ReadableStream | undefined;
    // Events up to this time were delivered; a reconnect asks for those after it.
    let lastNano = BigInt(Date.now()) * 1_000_000n;

    // timeNano exceeds a double's precision, so it is read from the text, not from the parsed number.
    const deliver = (event: DockerEvent, nanoText: string | undefined) => {
      const nano = BigInt(nanoText ?? 0);
      if (nano !== 0n && nano <= lastNano) return;
      if (nano !== 0n) lastNano = nano;
      const attributes = event.Actor?.Attributes ?? {};
      // The engine filtered by the labels already; this holds even if an engine ignored the filter.
      if (!this.#isOwn(attributes)) return;
      const state = eventState(event.Action ?? event.status ?? '', attributes);
      if (!state) return;
      listener({ name: attributes.name ?? '', labels: specLabels(attributes), state });
    };

    const connect = async (backoffMs: number): Promise<void> => {
      if (stopped) return;
      try {
        // Whole seconds, rounded down: events already delivered come again and are dropped by their time.
        const stream = await this.docker.getEvents({
          since: Number(lastNano / 1_000_000_000n),
          filters: { type: ['container'], event: ['create', 'start', 'die', 'destroy'], label: wanted },
        });
        if (stopped) {
          (stream as unknown as { destroy(): void }).destroy();
          return;
        }
        current = stream;
        let pending = '';
        const decoder = new StringDecoder('utf8');
        stream.on('data', (chunk: Buffer) => {
          pending += decoder.write(chunk);
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            if (line === '') continue;
            try {
              deliver(JSON.parse(line) as DockerEvent, /"timeNano":(\d+)/.exec(line)?.[1]);
            } catch {
              // A line that is not an event is not ours to act on.
            }
          }
        });
        const reconnect = () => {
          if (current !== stream) return;
          current = undefined;
          if (!stopped) setTimeout(() => void connect(1_000), 1_000);
        };
        stream.once('end', reconnect);
        stream.once('close', reconnect);
        stream.once('error', reconnect);
      } catch {
        // The engine is away (restarting, say): keep trying, more slowly each time.
        if (!stopped) setTimeout(() => void connect(Math.min(backoffMs * 2, 30_000)), backoffMs);
      }
    };
    void connect(500);

    const stop = () => {
      stopped = true;
      this.#watches.delete(stop);
      const stream = current;
      current = undefined;
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
    this.#watches.add(stop);
    return stop;
  }

  async stats(name: string): Promise<ContainerStats | null> {
    const info = await this.#inspect(name);
    if (!info || stateOf(info) !== 'up') return null;
    let answer: EngineStats;
    try {
      // Not streamed: the engine samples twice, about a second apart, and answers once with both.
      answer = (await this.docker.getContainer(info.Id).stats({ stream: false })) as unknown as EngineStats;
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 409) return null;
      throw engineError(error, `reading the stats of ${name}`);
    }
    const cpuMillis = cpuMillisOf(answer);
    if (cpuMillis === null) return null;
    const read = Date.parse(answer.read ?? '');
    return { cpuMillis, time: Number.isFinite(read) && read > 0 ? new Date(read) : new Date() };
  }

  async runTerminal(spec: ContainerSpec, options: TerminalRunOptions): Promise<TerminalRun> {
    const container = await this.#create(spec, true);
    try {
      // Attached before the start, so the first thing the process prints (a prompt) reaches the terminal.
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
      await this.#start(container, spec.name);
      const run = attachedTerminalRun(container, spec.name, stream, options);
      // The engine takes a size only once the container runs; a shell reads it as it starts.
      await run.resize(options.columns, options.rows);
      return run;
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw statusOf(error) === undefined ? error : engineError(error, `running ${spec.name}`);
    }
  }

  followLogs(name: string, options: FollowLogsOptions): () => void {
    let stopped = false;
    let ended = false;
    let stream: NodeJS.ReadableStream | undefined;
    // The engine has been seen to deliver more of a followed log than was printed; a line at or before the last one
    // given out is such a repeat and is dropped, which also makes `after` exact.
    // Per stream: each is copied by its own reader, so a stderr line can arrive after a later-stamped stdout line.
    const last = { stdout: options.after ?? '', stderr: options.after ?? '' };
    const end = () => {
      if (ended || stopped) return;
      ended = true;
      options.onEnd?.();
    };
    void (async () => {
      // Only this platform's own containers: #inspect ignores the rest.
      if (!(await this.#inspect(name).catch(() => undefined))) return end();
      try {
        stream = (await this.docker.getContainer(name).logs({
          follow: true,
          stdout: true,
          stderr: true,
          timestamps: true,
          ...(options.after ? { since: sinceAfter(options.after) as unknown as number } : {}),
        })) as unknown as NodeJS.ReadableStream;
      } catch {
        return end();
      }
      if (stopped) return void (stream as unknown as { destroy(): void }).destroy();
      const parser = createTimestampedLineParser((line) => {
        if (stopped || line.cursor <= last[line.stream]) return;
        last[line.stream] = line.cursor;
        options.onLine(line);
      });
      stream.on('data', (chunk: Buffer) => parser.push(chunk));
      const finish = () => {
        parser.flush();
        end();
      };
      stream.once('end', finish);
      stream.once('close', finish);
      stream.once('error', finish);
    })();
    return () => {
      stopped = true;
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }

  async probe(name: string, check: ReadinessCheck, options: ProbeOptions): Promise<string | null> {
    if (check.kind === 'exec') {
      try {
        return await this.#exec(name, check.command, options.timeoutMs);
      } catch (error) {
        return statusOf(error) === 404 ? `container ${name} does not exist` : `exec ${check.command.join(' ')}: ${messageOf(error)}`;
      }
    }
    let host = options.host;
    if (host === undefined) {
      const info = await this.#inspect(name);
      if (!info) return `container ${name} does not exist`;
      if (!info.State.Running) return `container ${name} is not running`;
      host = info.NetworkSettings.Networks?.[this.networkName]?.IPAddress;
      if (!host) return `the container has no address on network ${this.networkName}`;
    }
    if (check.kind === 'tcp') return probeTcp(host, check.port, options.timeoutMs);
    return probeHttp(host, check.port, check.path, check.headers ?? {}, options.timeoutMs);
  }

  async restart(name: string): Promise<Container> {
    if (!(await this.#inspect(name))) throw new NotReadyError(`container ${name} does not exist`, []);
    // A container already running again (a racing restart) is what the caller wants.
    try {
      await this.#start(this.docker.getContainer(name), name);
    } catch (error) {
      if (statusOf(error) !== 304) throw error;
    }
    const info = await this.#inspect(name);
    if (!info) throw new NotReadyError(`container ${name} vanished right after it was restarted`, []);
    return this.#toContainer(info);
  }

  /** This host, the one node: placement is not the engine's to check (the controller checks tags against it). */
  async listNodes(): Promise<ClusterNode[]> {
    let info: { ID?: string; Name?: string };
    let running: number;
    try {
      info = (await this.docker.info()) as { ID?: string; Name?: string };
      running = (await this.docker.listContainers({ filters: { label: this.#labelFilter({}), status: ['running'] } })).length;
    } catch (error) {
      throw engineError(error, 'reading the engine\'s information');
    }
    return [
      {
        id: info.ID ?? '',
        hostname: info.Name ?? '',
        address: null,
        state: 'ready',
        availability: 'active',
        role: 'manager',
        labels: { ...this.#nodeLabels },
        containers: running,
      },
    ];
  }
}

interface DockerEvent {
  status?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

function eventState(action: string, attributes: Record<string, string>): ContainerEvent['state'] | undefined {
  switch (action) {
    case 'create':
      return 'starting';
    case 'start':
      return 'up';
    case 'die':
      return attributes.exitCode === '0' ? 'down' : 'crashed';
    case 'destroy':
      return 'removed';
    default:
      return undefined;
  }
}
