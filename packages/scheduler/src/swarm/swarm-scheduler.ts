/**
 * The scheduler on a Docker Swarm (ADR 0018). Each container spec becomes a Swarm service of one replica that is never
 * restarted (restart condition `none`): the controller's reconciler decides what comes back, as on one engine, and the
 * rollout semantics of the interface stay those of containers. The service's single task is "the container": its
 * state, its address on the platform's attachable overlay network (where the router dials it), its exit code.
 *
 * The manager's engine holds the services; each node's engine holds its tasks' containers and its images. The
 * scheduler is given every node's engine so that it can do what only a node can: exec into a container (readiness
 * checks, probes), read and follow its log, attach to it (terminal runs), sample its stats, watch container events,
 * and copy an image the manager has to the nodes that lack it (no registry is needed to try the backend). An image of
 * the platform's registry is not copied: each node pulls it with the login the service carries (ADR 0019). A restart
 * is a new task of the service; the exited ones stay, with their output.
 *
 * Like the Docker backend it trusts only what it made: services and their containers carry the platform's secret key.
 * A node the manager has lost takes its tasks with it, unannounced and never replaced by Swarm (restart `none`): they
 * are reported crashed, so the reconciler replaces them and the router drops them.
 * @module
 */
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { DockerScheduler, FIRST_PROBE_INTERVAL_MS, PLATFORM_LABEL, PORT_LABEL, PROBE_INTERVAL_MS, SPEC_LABELS_LABEL, statusOf } from '../docker/docker-scheduler.ts';
import { deleteRegistryImage } from '../registry/platform-registry.ts';
import type { PlatformRegistry } from '../registry/platform-registry.ts';
import { imagePullAuth, pullOnEngine } from './swarm-registry-pull.ts';
import { createFrameParser, createTimestampedLineParser, cursorOfStamp, parseTimestampedLogs, sinceAfter } from '../docker/log-frames.ts';
import { isInsideCgnat } from '../docker/platform-network.ts';
import { OutputTail } from '../output-tail.ts';
import { ContainerNameInUseError, ImageInUseError, ImageNotFoundError, NotReadyError, SchedulerUnavailableError } from '../scheduler.ts';
import type {
  ClusterNode,
  Container,
  ContainerEvent,
  ContainerSpec,
  ContainerState,
  ContainerStats,
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
import { BASE_IMAGE, NODE_IMAGE } from '../stack-images.ts';
import { ensureAnchors, removeAnchors } from './network-anchors.ts';
import { Prober, execIn } from './swarm-probe.ts';
import { placementConstraints, toClusterNodes, unplaceableReason } from './swarm-nodes.ts';
import type { SwarmNodeInfo } from './swarm-nodes.ts';
import { swarmTerminalRun } from './swarm-terminal-run.ts';
import { TaskStarts } from './task-starts.ts';

const KEY_LABEL = 'io.deis.scheduler.key';
const LAST_LINES = 20;
const ANCHOR_CHECK_MS = 60_000;

export interface SwarmSchedulerOptions {
  /** The manager's engine first, then the other nodes' (any order); every node of the swarm must be among them. */
  nodes: Docker[];
  platformName: string;
  /** The attachable overlay network tasks join; created if missing. */
  networkName: string;
  /** Its subnet, inside 100.64.0.0/10. */
  networkSubnet: string;
  containerKey: string;
  defaultMemoryBytes?: number;
  /** The image of the probe container (needs `node`); default deis/node:20. */
  probeImage?: string;
  /**
   * The platform's registry (ADR 0019): its images are pulled by each node with this login, not copied from the
   * manager, and deleted from it when removed.
   */
  registry?: PlatformRegistry;
  /** Other registries (`host:port`) nodes may pull from, with an app's `deis registry` login; default none. */
  pullRegistries?: string[];
  /** The most processes (threads included) one container may have (`Resources.Limits.Pids`); absent: unlimited. */
  pidsLimit?: number;
}

export interface Task {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Version?: { Index?: number };
  CreatedAt?: string;
  DesiredState?: string;
  Status?: { Timestamp?: string; State?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  NetworksAttachments?: Array<{ Network?: { Spec?: { Name?: string } }; Addresses?: string[] }>;
}

interface Service {
  ID: string;
  Version?: { Index?: number };
  Spec: { Name: string; Labels?: Record<string, string>; TaskTemplate?: { ForceUpdate?: number } };
}

function messageOf(error: unknown): string {
  const engine = error as { json?: { message?: string }; message?: string } | null;
  return (engine?.json?.message ?? engine?.message ?? String(error)).trim();
}

function engineError(error: unknown, doing: string): Error {
  const status = statusOf(error);
  if (status === undefined || status >= 500) return new SchedulerUnavailableError(`Swarm: ${doing}: ${messageOf(error)}`, { cause: error });
  return error instanceof Error ? error : new Error(messageOf(error));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function specLabels(labels: Record<string, string> | undefined): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(labels?.[SPEC_LABELS_LABEL] ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** A task's state as a container's; a rejected task (its container could not be made or run) has crashed. */
export function taskState(task: Task | undefined): ContainerState {
  switch (task?.Status?.State) {
    case 'running':
      return 'up';
    case 'complete':
      return 'down';
    case 'failed':
    case 'rejected':
      return 'crashed';
    case 'shutdown':
    case 'orphaned':
    case 'remove':
      return task.Status.ContainerStatus?.ExitCode ? 'crashed' : 'down';
    default:
      return 'starting';
  }
}

function isTerminal(state: ContainerState): boolean {
  return state === 'down' || state === 'crashed';
}

function exitCodeOf(task: Task | undefined, state: ContainerState): number | null {
  if (!isTerminal(state)) return null;
  const code = task?.Status?.ContainerStatus?.ExitCode ?? 0;
  return code === 0 && state === 'crashed' ? 127 : code;
}

/** When a task was made, as text that sorts (the engine trims a time's trailing zeros, so its own text does not). */
function createdKey(task: Task): string {
  return cursorOfStamp(task.CreatedAt ?? '') ?? '';
}

/**
 * The newest task of a service, the one that is "the container" now: `restart` makes a new task beside the exited ones
 * it keeps (their output stays readable). By creation, not by version: an old task's version grows as Swarm updates it.
 */
function latest(tasks: Task[]): Task | undefined {
  return oldestFirst(tasks).at(-1);
}

/** A service's tasks, oldest first. */
function oldestFirst(tasks: Task[]): Task[] {
  const order = (a: Task, b: Task) => {
    const [x, y] = [createdKey(a), createdKey(b)];
    return x < y ? -1 : x > y ? 1 : (a.Version?.Index ?? 0) - (b.Version?.Index ?? 0);
  };
  return [...tasks].sort(order);
}

export class SwarmScheduler implements Scheduler {
  readonly manager: Docker;
  readonly nodes: Docker[];
  readonly platformName: string;
  readonly networkName: string;
  readonly networkSubnet: string;
  readonly #containerKey: string;
  readonly #defaultMemoryBytes: number | undefined;
  readonly #probeImage: string;
  readonly #pidsLimit: number | undefined;
  /** Each node's engine as a one-engine scheduler, for what concerns one engine's images and containers. */
  readonly #engines: DockerScheduler[];
  /** A node's engine by its swarm node ID. */
  #byNodeId = new Map<string, Docker>();
  readonly #watches = new Set<() => void>();
  #probe: Promise<string> | undefined;
  #anchoring: Promise<void> | undefined;
  /** Tasks whose containers their nodes started, before the manager says so. */
  readonly #starts = new TaskStarts();
  #anchoredAt = 0;
  readonly #registry: PlatformRegistry | undefined;
  readonly #pullRegistries: ReadonlySet<string>;
  /** The app's login an image of another registry was pulled with (`ensureImage`), for the nodes' pulls. */
  readonly #logins = new Map<string, RegistryLogin>();
  /** Makes the TCP and HTTP checks, in the probe container. */
  readonly #prober = new Prober(async () => {
    // A new prober is rare (the first check, or the last prober ended): the probe container may have gone meanwhile.
    const id = await this.#probeContainer();
    const running = await this.manager
      .getContainer(id)
      .inspect()
      .then((info: { State: { Running: boolean } }) => info.State.Running)
      .catch(() => false);
    if (running) return { docker: this.manager, containerId: id };
    this.#probe = undefined;
    return { docker: this.manager, containerId: await this.#probeContainer() };
  });

  constructor(options: SwarmSchedulerOptions) {
    if (options.nodes.length === 0) throw new Error('a swarm scheduler needs at least the manager');
    if (options.containerKey.length < 16) throw new Error('the container key must have at least 16 characters');
    if (!isInsideCgnat(options.networkSubnet)) throw new Error(`the platform network's subnet must lie inside 100.64.0.0/10, not ${options.networkSubnet}`);
    this.manager = options.nodes[0]!;
    this.nodes = options.nodes;
    this.platformName = options.platformName;
    this.networkName = options.networkName;
    this.networkSubnet = options.networkSubnet;
    this.#containerKey = options.containerKey;
    this.#defaultMemoryBytes = options.defaultMemoryBytes;
    this.#probeImage = options.probeImage ?? NODE_IMAGE;
    this.#pidsLimit = options.pidsLimit;
    this.#registry = options.registry;
    this.#pullRegistries = new Set(options.pullRegistries ?? []);
    this.#engines = options.nodes.map(
      (docker) => new DockerScheduler({ docker, platformName: options.platformName, networkName: options.networkName, networkSubnet: options.networkSubnet, containerKey: options.containerKey }),
    );
  }

  /** A scheduler whose overlay network exists and whose nodes all answer. */
  static async create(options: SwarmSchedulerOptions): Promise<SwarmScheduler> {
    const scheduler = new SwarmScheduler(options);
    try {
      const infos = await Promise.all(scheduler.nodes.map((docker) => docker.info() as Promise<{ Swarm?: { NodeID?: string; ControlAvailable?: boolean } }>));
      if (!infos[0]?.Swarm?.ControlAvailable) throw new Error('the first engine given is not a swarm manager');
      infos.forEach((info, index) => scheduler.#byNodeId.set(info.Swarm?.NodeID ?? '', scheduler.nodes[index]!));
    } catch (error) {
      throw new SchedulerUnavailableError(`the swarm's engines do not all answer: ${messageOf(error)}`, { cause: error });
    }
    await scheduler.#ensureNetwork();
    return scheduler;
  }

  async #ensureNetwork(): Promise<void> {
    try {
      await this.manager.getNetwork(this.networkName).inspect();
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw engineError(error, `inspecting network ${this.networkName}`);
    }
    try {
      await this.manager.createNetwork({
        Name: this.networkName,
        Driver: 'overlay',
        Attachable: true,
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: this.networkSubnet }] },
        Labels: { [PLATFORM_LABEL]: this.platformName },
      });
    } catch (error) {
      if (statusOf(error) !== 409) throw engineError(error, `creating network ${this.networkName}`);
    }
  }

  /** Stops every watch and removes the probe container and the nodes' anchors. */
  async close(): Promise<void> {
    for (const stop of [...this.#watches]) stop();
    this.#starts.close();
    this.#prober.close();
    // Ones still being made would outlive the removal.
    await Promise.allSettled([this.#probe, this.#anchoring]);
    await this.manager.getContainer(this.#probeName()).remove({ force: true }).catch(() => undefined);
    await removeAnchors(this.manager, this.nodes, this.platformName);
  }

  /**
   * Makes sure, at most once a minute, that the anchors on the overlay run (network-anchors.ts) and every node has
   * their image; in the background, since a missing anchor only slows a start.
   */
  #anchorNodes(): void {
    if (this.#anchoring !== undefined && Date.now() - this.#anchoredAt < ANCHOR_CHECK_MS) return;
    this.#anchoredAt = Date.now();
    this.#anchoring = (async () => {
      try {
        await this.#distribute(BASE_IMAGE);
      } catch (error) {
        // Without the image on the manager no node could run an anchor, and Swarm would retry them for ever; a node
        // the image could not reach (a lost one) fails its own anchor only.
        if (error instanceof ImageNotFoundError) return;
      }
      await ensureAnchors(this.manager, { platformName: this.platformName, networkName: this.networkName, image: BASE_IMAGE });
    })().catch(() => undefined);
  }

  #labels(spec: ContainerSpec): Record<string, string> {
    const labels: Record<string, string> = {
      ...spec.labels,
      [PLATFORM_LABEL]: this.platformName,
      [KEY_LABEL]: this.#containerKey,
      [SPEC_LABELS_LABEL]: JSON.stringify(spec.labels),
    };
    if (spec.port !== undefined) labels[PORT_LABEL] = String(spec.port);
    return labels;
  }

  #isOwn(labels: Record<string, string> | undefined): boolean {
    return labels?.[PLATFORM_LABEL] === this.platformName && labels[KEY_LABEL] === this.#containerKey;
  }

  #labelFilter(labels: Record<string, string>): string[] {
    return Object.entries({ ...labels, [PLATFORM_LABEL]: this.platformName, [KEY_LABEL]: this.#containerKey }).map(([k, v]) => `${k}=${v}`);
  }

  async #service(name: string): Promise<Service | undefined> {
    try {
      const service = (await this.manager.getService(name).inspect()) as Service;
      // Inspect also matches an ID prefix; only the exact name counts.
      return service.Spec.Name === name && this.#isOwn(service.Spec.Labels) ? service : undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw engineError(error, `inspecting service ${name}`);
    }
  }

  async #tasks(serviceIds: string[]): Promise<Task[]> {
    if (serviceIds.length === 0) return [];
    try {
      return (await this.manager.listTasks({ filters: { service: serviceIds } })) as Task[];
    } catch (error) {
      throw engineError(error, 'listing tasks');
    }
  }

  /**
   * The nodes the manager has lost (down or disconnected). Their tasks may have died with them, and no engine will say
   * so: Swarm does not replace a task that is never restarted, so these are reported crashed, which the reconciler
   * replaces on the nodes that are left.
   */
  async #lostNodes(): Promise<Set<string>> {
    try {
      const nodes = (await this.manager.listNodes()) as Array<{ ID: string; Status?: { State?: string } }>;
      return new Set(nodes.filter((node) => node.Status?.State !== 'ready').map((node) => node.ID));
    } catch (error) {
      throw engineError(error, 'listing nodes');
    }
  }

  #toContainer(service: Service, task: Task | undefined, lost: Set<string>): Container {
    const onLostNode = task?.NodeID !== undefined && lost.has(task.NodeID) && !isTerminal(taskState(task));
    const state: ContainerState = onLostNode ? 'crashed' : this.#stateOf(task);
    const port = Number(service.Spec.Labels?.[PORT_LABEL]);
    const attachment = task?.NetworksAttachments?.find((a) => a.Network?.Spec?.Name === this.networkName);
    const ip = attachment?.Addresses?.[0]?.split('/')[0];
    const since = task?.Status?.Timestamp ? new Date(task.Status.Timestamp) : null;
    return {
      name: service.Spec.Name,
      labels: specLabels(service.Spec.Labels),
      state,
      startedAt: state === 'starting' ? null : since,
      address: state === 'up' && ip && Number.isInteger(port) && port > 0 ? { host: ip, port } : null,
      exitCode: onLostNode ? null : exitCodeOf(task, state),
    };
  }

  /** Every node has the image the manager has under that name, copied from the manager where missing. */
  async #distribute(image: string): Promise<void> {
    const engines = this.#engines;
    if ((await engines[0]!.imagePorts(image)) === null) throw new ImageNotFoundError(image);
    const id = ((await this.manager.getImage(image).inspect()) as { Id: string }).Id;
    await Promise.all(
      this.nodes.slice(1).map(async (docker) => {
        const has = await docker
          .getImage(image)
          .inspect()
          .then((info: { Id: string }) => info.Id === id)
          .catch(() => false);
        if (has) return;
        try {
          const saved = await this.manager.getImage(image).get();
          const loaded = await docker.loadImage(saved, { quiet: true });
          await new Promise<void>((resolve, reject) => {
            loaded.on('data', () => undefined);
            loaded.once('end', resolve);
            loaded.once('error', reject);
          });
        } catch (error) {
          throw engineError(error, `copying image ${image} to a node`);
        }
      }),
    );
  }

  /** `terminal`: the task's container gets a TTY and an open stdin (runTerminal). */
  async #createService(spec: ContainerSpec, terminal = false): Promise<void> {
    // An image of a registry the nodes may reach is pulled by the node a task lands on, with the login the service
    // carries (`--with-registry-auth`); any other comes from the manager's engine.
    const auth = this.#pullAuth(spec.image);
    if (auth === undefined) await this.#distribute(spec.image);
    if (await this.#service(spec.name)) throw new ContainerNameInUseError(spec.name);
    // Made meanwhile, not after the task runs: the probe container its readiness check may need, and the anchors.
    if (!terminal) void this.#probeContainer().catch(() => undefined);
    this.#anchorNodes();
    this.#starts.follow(this.#engines, this.nodes);
    const labels = this.#labels(spec);
    const memory = spec.memoryBytes ?? this.#defaultMemoryBytes;
    const limits: Record<string, number> = {};
    if (memory !== undefined) limits.MemoryBytes = memory;
    if (spec.cpuMillis !== undefined && spec.cpuMillis > 0) limits.NanoCPUs = Math.max(10_000_000, Math.round(spec.cpuMillis * 1_000_000));
    if (this.#pidsLimit !== undefined) limits.Pids = this.#pidsLimit;
    // Swarm's Command replaces the entrypoint and Args the CMD; an entrypoint given alone drops the image's CMD.
    const command = spec.entrypoint ? { Command: spec.entrypoint, Args: spec.command ?? [] } : spec.command ? { Args: spec.command } : {};
    try {
      await this.manager.createService(auth ?? {}, {
        Name: spec.name,
        Labels: labels,
        TaskTemplate: {
          ContainerSpec: {
            Image: spec.image,
            ...command,
            Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
            Labels: labels,
            Hostname: spec.name.slice(0, 63).replace(/[^a-zA-Z0-9-]/g, '-').replace(/^-+|-+$/g, '') || undefined,
            Init: true,
            ...(terminal ? { TTY: true, OpenStdin: true } : {}),
            CapabilityDrop: ['ALL'],
            CapabilityAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'],
          },
          Resources: { Limits: limits },
          RestartPolicy: { Condition: 'none' },
          ...(spec.placement && Object.keys(spec.placement).length > 0 ? { Placement: { Constraints: placementConstraints(spec.placement) } } : {}),
          Networks: [{ Target: this.networkName }],
          LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } },
        },
        Mode: { Replicated: { Replicas: 1 } },
      } as never);
    } catch (error) {
      if (statusOf(error) === 409) throw new ContainerNameInUseError(spec.name);
      throw engineError(error, `creating service ${spec.name}`);
    }
  }

  /** The service and its newest task once the task has left the states before running (or `until` passed). */
  async #settled(name: string, until: number): Promise<{ service: Service; task: Task | undefined } | undefined> {
    for (;;) {
      const service = await this.#service(name);
      if (!service) return undefined;
      const task = latest(await this.#tasks([service.ID]));
      if (this.#stateOf(task) !== 'starting' || unplaceableReason(task) || Date.now() > until) return { service, task };
      await this.#starts.next(100);
    }
  }

  async start(spec: ContainerSpec): Promise<Container> {
    await this.#createService(spec);
    const found = await this.#settled(spec.name, Date.now() + 60_000);
    if (!found) throw new SchedulerUnavailableError(`Swarm: service ${spec.name} vanished right after it was made`);
    const unplaced = unplaceableReason(found.task);
    if (unplaced) {
      await this.stop(spec.name, 0);
      throw new Error(`no node of the swarm can run ${spec.name}${spec.placement ? ` (it needs the node labels ${placementConstraints(spec.placement).join(', ')})` : ''}: ${unplaced}`);
    }
    return this.#toContainer(found.service, found.task, await this.#lostNodes());
  }

  async list(labels: Record<string, string>): Promise<Container[]> {
    let services: Service[];
    try {
      services = ((await this.manager.listServices({ filters: { label: this.#labelFilter(labels) } })) as Service[]).filter((s) => this.#isOwn(s.Spec.Labels));
    } catch (error) {
      throw engineError(error, 'listing services');
    }
    const [tasks, lost] = await Promise.all([this.#tasks(services.map((s) => s.ID)), this.#lostNodes()]);
    return services.map((service) => this.#toContainer(service, latest(tasks.filter((t) => t.ServiceID === service.ID)), lost));
  }

  /** The engine of the node a task runs on, and its container's ID there (or its name, from the node's word). */
  #containerOf(task: Task | undefined): { docker: Docker; id: string } | undefined {
    const id = task?.Status?.ContainerStatus?.ContainerID;
    const docker = task?.NodeID ? this.#byNodeId.get(task.NodeID) : undefined;
    if (id && docker) return { docker, id };
    const started = task ? this.#starts.get(task.ID) : undefined;
    return started ? { docker: started.docker, id: started.name } : undefined;
  }

  /**
   * A task's state, where a task the manager still has starting is up once its node has started its container
   * (task-starts.ts); the node's word is dropped once the manager's own is in.
   */
  #stateOf(task: Task | undefined): ContainerState {
    const state = taskState(task);
    if (!task) return state;
    if (state !== 'starting') {
      this.#starts.forget(task.ID);
      return state;
    }
    return this.#starts.get(task.ID) ? 'up' : state;
  }

  async stop(name: string, graceSeconds: number): Promise<void> {
    const service = await this.#service(name);
    if (!service) return;
    const tasks = await this.#tasks([service.ID]);
    // The service's removal would stop its container with the grace period fixed when it was made: stopped first here.
    await Promise.all(
      tasks.map(async (task) => {
        const where = this.#containerOf(task);
        if (!where) return;
        await where.docker
          .getContainer(where.id)
          .stop({ t: Math.max(0, Math.round(graceSeconds)) })
          .catch(() => undefined);
      }),
    );
    try {
      await this.manager.getService(service.ID).remove();
    } catch (error) {
      if (statusOf(error) !== 404) throw engineError(error, `removing service ${name}`);
    }
    // The nodes would remove the containers seconds later (until then the image is in use and the name's logs
    // remain, and a deploy holds the app's lock): removed here at once, which the node's agent then finds done.
    const deadline = Date.now() + 15_000;
    for (const task of tasks) {
      const where = this.#containerOf(task);
      if (!where) continue;
      await where.docker
        .getContainer(where.id)
        .remove({ force: true })
        .catch(() => undefined);
      while (Date.now() < deadline) {
        const gone = await where.docker
          .getContainer(where.id)
          .inspect()
          .then(() => false)
          .catch((error: unknown) => statusOf(error) === 404);
        if (gone) break;
        await sleep(100);
      }
    }
  }

  async #lastLines(name: string, task: Task | undefined): Promise<string[]> {
    const lines = (await this.logs(name, LAST_LINES).catch(() => [])).map((line) => line.text);
    // A task Swarm could not even start has no output; its error says why.
    if (task?.Status?.Err && !/non-zero exit/.test(task.Status.Err)) lines.push(task.Status.Err);
    return lines.slice(-LAST_LINES);
  }

  #probeName(): string {
    return `${this.platformName}-probe`;
  }

  /** The probe container's ID, made on the manager on first use (see swarm-probe.ts). */
  async #probeContainer(): Promise<string> {
    this.#probe ??= (async () => {
      const name = this.#probeName();
      const existing = await this.manager
        .getContainer(name)
        .inspect()
        .catch(() => undefined);
      if (existing?.State.Running) return existing.Id;
      if (existing) await this.manager.getContainer(name).remove({ force: true });
      const container = await this.manager.createContainer({
        name,
        Image: this.#probeImage,
        Entrypoint: ['sleep'],
        Cmd: ['infinity'],
        Labels: { [PLATFORM_LABEL]: this.platformName },
        HostConfig: { Init: true, NetworkMode: this.networkName, RestartPolicy: { Name: 'unless-stopped' } },
      });
      await container.start();
      return container.id;
    })().catch((error: unknown) => {
      this.#probe = undefined;
      throw engineError(error, 'starting the probe container');
    });
    return this.#probe;
  }

  #addressOf(task: Task | undefined): string | undefined {
    return task?.NetworksAttachments?.find((a) => a.Network?.Spec?.Name === this.networkName)?.Addresses?.[0]?.split('/')[0];
  }

  /** One attempt of `check`: exec in the task's container on its node, TCP and HTTP from the probe container. */
  async #check(task: Task | undefined, address: string | undefined, check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
    try {
      if (check.kind === 'exec') {
        const where = this.#containerOf(task);
        if (!where) return 'the task has no container yet';
        return await execIn(where.docker, where.id, check.command, timeoutMs);
      }
      if (!address) return `the task has no address on network ${this.networkName}`;
      const network = check.kind === 'tcp' ? { kind: 'tcp' as const, host: address, port: check.port } : { kind: 'http' as const, host: address, port: check.port, path: check.path, headers: check.headers ?? {} };
      return await this.#prober.check(network, timeoutMs);
    } catch (error) {
      return `${check.kind} check: ${messageOf(error)}`;
    }
  }

  async waitReady(name: string, check: ReadinessCheck, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let why = 'no check has run yet';
    // As on one engine: checks soon after the start, since most apps listen within a moment of it, then less often.
    let interval = FIRST_PROBE_INTERVAL_MS;
    for (;;) {
      const service = await this.#service(name);
      if (!service) throw new NotReadyError(`container ${name} does not exist`, []);
      const task = latest(await this.#tasks([service.ID]));
      const state = this.#stateOf(task);
      if (task?.NodeID && !isTerminal(state) && (await this.#lostNodes()).has(task.NodeID)) {
        throw new NotReadyError(`container ${name} was on a node the swarm has lost`, []);
      }
      if (isTerminal(state)) {
        throw new NotReadyError(`container ${name} exited with code ${exitCodeOf(task, state)} before it became ready`, await this.#lastLines(name, task));
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new NotReadyError(`container ${name} did not become ready within ${Math.round(timeoutMs / 100) / 10} s: ${why}`, await this.#lastLines(name, task), {
          timedOut: true,
        });
      }
      if (state === 'up' && task) {
        const result = await this.#check(task, this.#addressOf(task), check, Math.min(remaining, 2_000));
        if (result === null) return;
        why = result;
      }
      const pause = Math.min(state === 'up' ? interval : PROBE_INTERVAL_MS, Math.max(0, deadline - Date.now()));
      if (state === 'up') interval = Math.min(interval * 2, PROBE_INTERVAL_MS);
      // A task still starting is checked again as soon as a node starts a container.
      await (state === 'starting' ? this.#starts.next(pause) : sleep(pause));
    }
  }

  async #serviceLogs(serviceId: string, tail: number | 'all'): Promise<LogLine[]> {
    try {
      const buffer = await this.manager.getService(serviceId).logs({ stdout: true, stderr: true, timestamps: true, tail, follow: false } as never);
      const lines = parseTimestampedLogs(Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer as unknown as string));
      // Each stream keeps its order; between the two, the times decide.
      return lines.map((line, index) => ({ line, index })).sort((a, b) => a.line.time.getTime() - b.line.time.getTime() || a.index - b.index).map((entry) => entry.line);
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw engineError(error, 'reading service logs');
    }
  }

  async logs(name: string, lines: number): Promise<LogLine[]> {
    if (lines <= 0) return [];
    const service = await this.#service(name);
    if (!service) return [];
    return (await this.#serviceLogs(service.ID, Math.floor(lines))).slice(-Math.floor(lines));
  }

  async run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    await this.#createService(spec);
    const output = new OutputTail(options.maxOutputBytes);
    const emit = (text: string) => {
      if (text === '') return;
      output.push(text);
      options.onOutput?.(text);
    };
    // Bytes of each stream seen live, so that what the followed logs missed can be told apart once the task ended.
    const streamed = { stdout: 0, stderr: 0 };
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    let follow: { destroy(): void } | undefined;
    try {
      const service = await this.#service(spec.name);
      if (!service) throw new SchedulerUnavailableError(`Swarm: one-off service ${spec.name} vanished`);
      // Output arrives as the task prints it, from whichever node runs it (the manager gathers service logs).
      const stream = (await this.manager.getService(service.ID).logs({ follow: true, stdout: true, stderr: true } as never)) as unknown as NodeJS.ReadableStream & {
        destroy(): void;
      };
      follow = stream;
      stream.on(
        'data',
        createFrameParser((name, payload) => {
          streamed[name] += payload.length;
          emit(decoders[name].write(payload));
        }),
      );
      stream.on('error', () => undefined);
      const deadline = Date.now() + options.timeoutMs;
      let found: { service: Service; task: Task | undefined } | undefined;
      for (;;) {
        found = await this.#settled(spec.name, deadline);
        if (!found) throw new SchedulerUnavailableError(`Swarm: one-off service ${spec.name} vanished`);
        if (isTerminal(taskState(found.task))) break;
        if (Date.now() > deadline) {
          throw new Error(`one-off container ${spec.name} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`);
        }
        await sleep(100);
      }
      // The followed logs can lag the task's end: the whole log, read now, has every byte; each stream keeps its order,
      // so what is beyond the bytes already seen of a stream is what it missed.
      const whole = await this.#wholeLog(service.ID);
      for (let waited = 0; waited < 3_000 && (streamed.stdout < whole.stdout.length || streamed.stderr < whole.stderr.length); waited += 50) await sleep(50);
      stream.destroy();
      follow = undefined;
      for (const name of ['stdout', 'stderr'] as const) {
        if (streamed[name] < whole[name].length) emit(decoders[name].write(whole[name].subarray(streamed[name])));
        emit(decoders[name].end());
      }
      const exitCode = exitCodeOf(found.task, taskState(found.task)) ?? 0;
      if (found.task?.Status?.Err && exitCode !== 0 && !/non-zero exit/.test(found.task.Status.Err)) emit(`${found.task.Status.Err}\n`);
      return { exitCode, output: output.text() };
    } finally {
      follow?.destroy();
      await this.stop(spec.name, 0).catch(() => undefined);
    }
  }

  /** A service's whole log, each stream's bytes apart. */
  async #wholeLog(serviceId: string): Promise<{ stdout: Buffer; stderr: Buffer }> {
    const parts = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    try {
      const read = await this.manager.getService(serviceId).logs({ follow: false, stdout: true, stderr: true } as never);
      createFrameParser((name, payload) => parts[name].push(Buffer.from(payload)))(Buffer.isBuffer(read) ? read : Buffer.from(read as unknown as string));
    } catch (error) {
      if (statusOf(error) !== 404) throw engineError(error, 'reading service logs');
    }
    return { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr) };
  }

  async imagePorts(image: string): Promise<number[] | null> {
    return this.#engines[0]!.imagePorts(image);
  }

  async imageHasFile(image: string, path: string): Promise<boolean | null> {
    return this.#engines[0]!.imageHasFile(image, path);
  }

  async ensureImage(image: string, login?: RegistryLogin): Promise<void> {
    if (login && this.#pullAuth(image) !== undefined && !this.#isPlatformImage(image)) this.#logins.set(image, login);
    const auth = this.#pullAuth(image);
    if (auth === undefined) {
      await this.#engines[0]!.ensureImage(image, login);
      await this.#distribute(image);
      return;
    }
    // The manager reads the image's ports and files; the nodes pull it themselves when a task needs it.
    if ((await this.#engines[0]!.imagePorts(image)) === null) await pullOnEngine(this.manager, image, auth);
  }

  #isPlatformImage(image: string): boolean {
    return this.#registry !== undefined && image.startsWith(`${this.#registry.address}/`);
  }

  /** The engine auth the nodes pull `image` with; undefined when they do not pull it (it is copied from the manager). */
  #pullAuth(image: string): ReturnType<typeof imagePullAuth> {
    return imagePullAuth(image, this.#registry, this.#pullRegistries, this.#logins.get(image));
  }

  async removeImage(reference: string): Promise<void> {
    // All or nothing: a node whose container uses the image refuses, and the others must then keep it too (the
    // manager's copy is the one the backend reads and copies from).
    await Promise.all(this.nodes.map((docker) => this.#refuseIfInUse(docker, reference)));
    const results = await Promise.allSettled(this.#engines.map((engine) => engine.removeImage(reference)));
    const inUse = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason instanceof ImageInUseError);
    if (inUse) throw inUse.reason as Error;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason as Error;
    this.#logins.delete(reference);
    // Its layers go at the registry's next garbage collection (the registry role's).
    if (this.#registry && this.#isPlatformImage(reference)) {
      try {
        await deleteRegistryImage(this.#registry, reference);
      } catch (error) {
        throw new SchedulerUnavailableError(`Swarm: deleting ${reference} from the registry: ${messageOf(error)}`, { cause: error });
      }
    }
  }

  /** Rejects with ImageInUseError when `reference` is the image's last name on that node and a container uses it. */
  async #refuseIfInUse(docker: Docker, reference: string): Promise<void> {
    let info: { Id: string; RepoTags?: string[] };
    try {
      info = (await docker.getImage(reference).inspect()) as typeof info;
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw engineError(error, `inspecting image ${reference}`);
    }
    if ((info.RepoTags ?? []).length > 1) return;
    let users: unknown[];
    try {
      users = await docker.listContainers({ all: true, filters: { ancestor: [info.Id] } });
    } catch (error) {
      throw engineError(error, `listing the containers of image ${reference}`);
    }
    if (users.length > 0) throw new ImageInUseError(reference, `${users.length} container(s) on a node use it`);
  }

  watch(labels: Record<string, string>, listener: (event: ContainerEvent) => void): () => void {
    let stopped = false;
    // Tasks' containers carry the service's labels; each node's engine reports its own containers' events.
    const stops = this.#engines.map((engine) =>
      engine.watch(labels, (event) => {
        // The container's name is the task's (`service.1.id`); the caller knows the service's.
        const named = { ...event, name: this.#serviceNameOf(event.name) };
        if (named.state !== 'removed') return listener(named);
        // Swarm prunes the exited tasks of a restarted container beyond its task history limit: their containers go
        // while the service, "the container", stays. Only a service's own removal removes it.
        void this.#service(named.name).then(
          (service) => {
            if (!service && !stopped) listener(named);
          },
          () => !stopped && listener(named),
        );
      }),
    );
    // A lost node's engine reports nothing: the manager's view of the nodes is polled instead.
    const reported = new Set<string>();
    let polling = false;
    const poll = setInterval(() => {
      if (polling) return;
      polling = true;
      void this.#reportLost(labels, reported, listener)
        .catch(() => undefined)
        .finally(() => {
          polling = false;
        });
    }, 1_000);
    const stop = () => {
      stopped = true;
      this.#watches.delete(stop);
      clearInterval(poll);
      for (const each of stops) each();
    };
    this.#watches.add(stop);
    return stop;
  }

  /** Tells `listener` once about each matching container that was running or starting on a node now lost. */
  async #reportLost(labels: Record<string, string>, reported: Set<string>, listener: (event: ContainerEvent) => void): Promise<void> {
    const lost = await this.#lostNodes();
    if (lost.size === 0) return;
    for (const container of await this.list(labels)) {
      if (container.state !== 'crashed' || container.exitCode !== null || reported.has(container.name)) continue;
      reported.add(container.name);
      listener({ name: container.name, labels: container.labels, state: 'crashed' });
    }
  }

  #serviceNameOf(containerName: string): string {
    return containerName.replace(/^\//, '').replace(/\.\d+\.[a-z0-9]+$/, '');
  }

  async stats(name: string): Promise<ContainerStats | null> {
    const service = await this.#service(name);
    if (!service) return null;
    const task = latest(await this.#tasks([service.ID]));
    if (this.#stateOf(task) !== 'up') return null;
    const where = this.#containerOf(task);
    if (!where) return null;
    return this.#engines[this.nodes.indexOf(where.docker)]!.stats(where.id);
  }

  async runTerminal(spec: ContainerSpec, options: TerminalRunOptions): Promise<TerminalRun> {
    await this.#createService(spec, true);
    try {
      const found = await this.#settled(spec.name, Date.now() + 60_000);
      if (!found) throw new SchedulerUnavailableError(`Swarm: one-off service ${spec.name} vanished`);
      const where = this.#containerOf(found.task);
      if (!where) throw new Error(`one-off container ${spec.name} could not start: ${found.task?.Status?.Err ?? 'the swarm gave it no container'}`);
      return await swarmTerminalRun(where.docker.getContainer(where.id), spec.name, options, () => this.stop(spec.name, 0));
    } catch (error) {
      await this.stop(spec.name, 0).catch(() => undefined);
      throw statusOf(error) === undefined ? error : engineError(error, `running ${spec.name}`);
    }
  }

  followLogs(name: string, options: FollowLogsOptions): () => void {
    let stopped = false;
    let ended = false;
    let stream: NodeJS.ReadableStream | undefined;
    // Cursors are the engines' timestamps, which one clock makes comparable across a service's tasks (the nodes' clocks
    // must agree, as Swarm itself needs); a line at or before the last one given out is dropped, as on one engine.
    // Per stream: each is copied by its own reader, so a stderr line can arrive after a later-stamped stdout line.
    const last = { stdout: options.after ?? '', stderr: options.after ?? '' };
    const end = () => {
      if (ended || stopped) return;
      ended = true;
      options.onEnd?.();
    };
    const parser = createTimestampedLineParser((line) => {
      if (stopped || line.cursor <= last[line.stream]) return;
      last[line.stream] = line.cursor;
      options.onLine(line);
    });
    void (async () => {
      const service = await this.#service(name);
      if (!service) return end();
      // The newest task is followed on its node until its container stops; the tasks before it (a restarted
      // container's earlier runs) are read whole first, so the log is the same one the Docker backend keeps.
      let tasks = await this.#tasks([service.ID]);
      for (const deadline = Date.now() + 60_000; taskState(latest(tasks)) === 'starting' && !this.#containerOf(latest(tasks)) && Date.now() < deadline; ) {
        await sleep(100);
        if (stopped) return;
        tasks = await this.#tasks([service.ID]);
      }
      const newest = latest(tasks);
      for (const task of oldestFirst(tasks)) {
        const where = this.#containerOf(task);
        if (!where) continue;
        // From the earlier of the two streams' last lines; what the other stream has had again is dropped above.
        const since = last.stdout < last.stderr ? last.stdout : last.stderr;
        const logs = { stdout: true, stderr: true, timestamps: true, ...(since ? { since: sinceAfter(since) as unknown as number } : {}) };
        if (task !== newest) {
          const read = await where.docker
            .getContainer(where.id)
            .logs({ ...logs, follow: false })
            .catch(() => undefined);
          if (stopped) return;
          if (read) parser.push(Buffer.isBuffer(read) ? read : Buffer.from(read as unknown as string));
          parser.flush();
          continue;
        }
        stream = (await where.docker.getContainer(where.id).logs({ ...logs, follow: true })) as unknown as NodeJS.ReadableStream;
        if (stopped) return void (stream as unknown as { destroy(): void }).destroy();
        stream.on('data', (chunk: Buffer) => parser.push(chunk));
        const finish = () => {
          parser.flush();
          end();
        };
        stream.once('end', finish);
        stream.once('close', finish);
        stream.once('error', finish);
        return;
      }
      end();
    })().catch(() => end());
    return () => {
      stopped = true;
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }

  async probe(name: string, check: ReadinessCheck, options: ProbeOptions): Promise<string | null> {
    // The caller's address spares the manager two lookups, which matters for a monitor probing every container.
    if (check.kind !== 'exec' && options.host !== undefined) return this.#check(undefined, options.host, check, options.timeoutMs);
    const service = await this.#service(name);
    if (!service) return `container ${name} does not exist`;
    const task = latest(await this.#tasks([service.ID]));
    if (this.#stateOf(task) !== 'up') return `container ${name} is not running`;
    return this.#check(task, this.#addressOf(task), check, options.timeoutMs);
  }

  async restart(name: string): Promise<Container> {
    const service = await this.#service(name);
    if (!service) throw new NotReadyError(`container ${name} does not exist`, []);
    const before = latest(await this.#tasks([service.ID]));
    // A task on a lost node is as good as ended (list reports it crashed); one that has not ended (a racing restart) is
    // what the caller wants.
    const ended = isTerminal(taskState(before)) || (before?.NodeID !== undefined && (await this.#lostNodes()).has(before.NodeID));
    if (ended) {
      // Swarm never restarts a task of a service whose restart condition is `none`; a forced update makes a new task
      // of the same spec, labels and name, and keeps the exited ones (up to the swarm's task history limit), so the
      // service's log still has what they printed.
      const spec = { ...service.Spec, TaskTemplate: { ...service.Spec.TaskTemplate, ForceUpdate: (service.Spec.TaskTemplate?.ForceUpdate ?? 0) + 1 } };
      try {
        await this.manager.getService(service.ID).update({ _query: { version: service.Version?.Index ?? 0 }, _body: spec } as never);
      } catch (error) {
        if (statusOf(error) === 404) throw new NotReadyError(`container ${name} does not exist`, []);
        throw engineError(error, `restarting service ${name}`);
      }
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const now = await this.#service(name);
      if (!now) throw new NotReadyError(`container ${name} vanished right after it was restarted`, []);
      const task = latest(await this.#tasks([now.ID]));
      const renewed = task !== undefined && (before === undefined || task.ID !== before.ID || !ended);
      // A task no node fits stays pending, and Swarm places it once one does (a label put back): no use waiting here.
      if (renewed && (taskState(task) !== 'starting' || unplaceableReason(task) || Date.now() > deadline)) return this.#toContainer(now, task, await this.#lostNodes());
      if (Date.now() > deadline) throw new SchedulerUnavailableError(`Swarm: service ${name} made no new task within 60 s of its restart`);
      await sleep(100);
    }
  }

  async listNodes(): Promise<ClusterNode[]> {
    let nodes: SwarmNodeInfo[];
    let services: Service[];
    try {
      [nodes, services] = await Promise.all([
        this.manager.listNodes() as Promise<SwarmNodeInfo[]>,
        this.manager.listServices({ filters: { label: this.#labelFilter({}) } }) as Promise<Service[]>,
      ]);
    } catch (error) {
      throw engineError(error, 'listing nodes');
    }
    const own = services.filter((service) => this.#isOwn(service.Spec.Labels)).map((service) => service.ID);
    return toClusterNodes(nodes, await this.#tasks(own));
  }
}
