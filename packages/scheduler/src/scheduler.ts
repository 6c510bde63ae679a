/**
 * The scheduler: one interface, several backends. It speaks container specs, never apps or releases; the controller
 * turns a release and a formation into specs and owns the desired state.
 * Every backend proves itself by passing the suite in `scheduler-contract.ts`.
 * @module
 */

/** What a backend needs to start one container. */
export interface ContainerSpec {
  /** Unique among the engine's containers. */
  name: string;
  image: string;
  /** Replaces the image's entrypoint; absent: the image's own. */
  entrypoint?: string[];
  /** Replaces the image's CMD; absent: the image's own. */
  command?: string[];
  env: Record<string, string>;
  /** Backends store them on the container and filter `list` by them. */
  labels: Record<string, string>;
  /** Absent: unlimited. */
  memoryBytes?: number;
  /** In thousandths of a core; absent: unlimited. */
  cpuMillis?: number;
  /** The port the process listens on, when it serves traffic; the address `list` reports uses it. */
  port?: number;
  /**
   * Node labels the container requires (an app's `deis tags`): it runs only on a node carrying every one of them.
   * Absent or empty: any node. Backends of one node leave the check to whoever set them (the controller's tags:set).
   */
  placement?: Record<string, string>;
}

/** `starting`: created, not yet running. `up`: running. `down`: exited with 0 or stopped. `crashed`: exited otherwise. */
export type ContainerState = 'starting' | 'up' | 'down' | 'crashed';

export interface Container {
  name: string;
  labels: Record<string, string>;
  state: ContainerState;
  /** When the current run began; null before the first start. */
  startedAt: Date | null;
  /** Where the platform reaches the container's port; null without a port or while not running. */
  address: { host: string; port: number } | null;
  exitCode: number | null;
}

export type ReadinessCheck =
  | { kind: 'tcp'; port: number }
  | { kind: 'http'; port: number; path: string; headers?: Record<string, string> }
  | { kind: 'exec'; command: string[] };

export interface LogLine {
  time: Date;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A line of a followed log, with where it sits in the container's log. */
export interface FollowedLogLine extends LogLine {
  /**
   * Opaque to callers, ordered within one container: `followLogs(name, { after })` with it resumes after this line, so
   * a follower that stopped (a platform restart) neither misses nor repeats lines.
   */
  cursor: string;
}

export interface FollowLogsOptions {
  /** Only lines after this cursor (see FollowedLogLine); absent: from the container's first line. */
  after?: string;
  onLine: (line: FollowedLogLine) => void;
  /** The stream ended: the container stopped or was removed, the engine went away, or it never existed. Called once. */
  onEnd?: () => void;
}

export interface RunOptions {
  /** The container is killed after this long and the run fails. */
  timeoutMs: number;
  /** Receives output as it arrives, for live streaming. */
  onOutput?: (chunk: string) => void;
  /**
   * The result keeps only the last this-many bytes of output, after a line saying how many were dropped
   * (`output-tail.ts`); absent: all of it.
   */
  maxOutputBytes?: number;
}

export interface RunResult {
  exitCode: number;
  /** stdout and stderr interleaved as they arrived (the tail of them under `maxOutputBytes`). */
  output: string;
}

/** Why a container did not become ready; `lastLines` is what it printed last, to show the user. */
export class NotReadyError extends Error {
  readonly lastLines: string[];
  /**
   * True when the container was still running and only the time ran out: it may yet pass. False when it exited, was
   * never there or is gone, so no later check can pass.
   */
  readonly timedOut: boolean;

  constructor(message: string, lastLines: string[], options: { timedOut?: boolean } = {}) {
    super(message);
    this.name = 'NotReadyError';
    this.lastLines = lastLines;
    this.timedOut = options.timedOut ?? false;
  }
}

/** The engine failed or is unreachable; nothing about the request itself is wrong. */
export class SchedulerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchedulerUnavailableError';
  }
}

/** `start` or `run` named an image the engine does not have. */
export class ImageNotFoundError extends Error {
  readonly image: string;

  constructor(image: string) {
    super(`image ${image} does not exist`);
    this.name = 'ImageNotFoundError';
    this.image = image;
  }
}

/** A login to the registry of an image being pulled (an app's `deis registry` settings). */
export interface RegistryLogin {
  username: string;
  password: string;
}

/** The registry of `image` refused to give it: it wants credentials the platform does not have, or denies access. */
export class ImagePullDeniedError extends Error {
  readonly image: string;

  constructor(image: string, detail?: string) {
    super(`the registry refused to give image ${image}${detail ? `: ${detail}` : ''}`);
    this.name = 'ImagePullDeniedError';
    this.image = image;
  }
}

/** `start` or `run` was given a name another container already has. */
export class ContainerNameInUseError extends Error {
  readonly containerName: string;

  constructor(containerName: string) {
    super(`container name ${containerName} is already in use`);
    this.name = 'ContainerNameInUseError';
    this.containerName = containerName;
  }
}

/**
 * `removeImage` was refused because a container, running or stopped, still uses the image under the name given, and
 * that name is the image's last one. The image stays; removing it anyway would leave the container without one.
 */
export class ImageInUseError extends Error {
  readonly image: string;

  constructor(image: string, detail?: string) {
    super(`image ${image} is in use by a container${detail ? `: ${detail}` : ''}`);
    this.name = 'ImageInUseError';
    this.image = image;
  }
}

/** What a running container uses, sampled by the engine. */
export interface ContainerStats {
  /**
   * CPU in use, in thousandths of a core (1000: one core busy), averaged over the backend's sampling interval (Docker:
   * about a second). Not relative to any limit: the caller knows what the container was given.
   */
  cpuMillis: number;
  /** When the sample was taken. */
  time: Date;
}

export interface ContainerEvent {
  name: string;
  labels: Record<string, string>;
  /** The state the container has just entered. */
  state: ContainerState | 'removed';
}

export interface Scheduler {
  /** Creates and starts a container; resolves once the engine runs it. A name already in use is an error. */
  start(spec: ContainerSpec): Promise<Container>;

  /**
   * Resolves once the container passes the check. Rejects with NotReadyError if the container exits first or the
   * timeout passes, so a deploy can fail with the app's own last words.
   */
  waitReady(name: string, check: ReadinessCheck, timeoutMs: number): Promise<void>;

  /** Sends SIGTERM, waits up to `graceSeconds`, kills, and removes the container. An unknown name is not an error. */
  stop(name: string, graceSeconds: number): Promise<void>;

  /** Containers carrying every one of the given labels, in any state. */
  list(labels: Record<string, string>): Promise<Container[]>;

  /** Runs a one-off container to completion, then removes it. */
  run(spec: ContainerSpec, options: RunOptions): Promise<RunResult>;

  /** The last `lines` lines the container printed, oldest first; empty for an unknown name. */
  logs(name: string, lines: number): Promise<LogLine[]>;

  /** The TCP ports an image EXPOSEs, ascending; null when the image does not exist. */
  imagePorts(image: string): Promise<number[] | null>;

  /**
   * Whether the image's filesystem has an executable at `path` (a symbolic link counts when what it points to is
   * there); null when the image does not exist. Images never change, so backends may remember the answer.
   */
  imageHasFile(image: string, path: string): Promise<boolean | null>;

  /**
   * Makes the engine have `image`: nothing to do when it has it; otherwise the backend pulls it from its registry, if
   * that registry is one it may reach, logging in with `login` when given. Rejects with ImageNotFoundError when there
   * is no such image to get, and with ImagePullDeniedError when the registry refuses it (or the login).
   */
  ensureImage(image: string, login?: RegistryLogin): Promise<void>;

  /**
   * Removes the name `reference` from the engine, and the image it names unless other names still hold that image.
   * Never forced: when a container, running or stopped, uses the image and `reference` is its last name, rejects with
   * ImageInUseError and leaves it (the caller decides whether that matters). An image that does not exist is not an
   * error, so a removal can be retried or raced.
   */
  removeImage(reference: string): Promise<void>;

  /** Calls `listener` whenever a container with the given labels changes state; returns a function that stops it. */
  watch(labels: Record<string, string>, listener: (event: ContainerEvent) => void): () => void;

  /**
   * A sample of what a running container uses; null for an unknown container, one not running, or one the engine has
   * no sample of yet. Each call may take as long as the backend's sampling interval, so callers bound how many run at once.
   */
  stats(name: string): Promise<ContainerStats | null>;

  /**
   * Creates and starts a one-off container on a terminal of its own (stdin open), resolving once it runs: an
   * interactive `deis run`. It is listed like any container while it runs, and removed when it ends, times out or is
   * killed.
   */
  runTerminal(spec: ContainerSpec, options: TerminalRunOptions): Promise<TerminalRun>;

  /**
   * Follows what the container prints: every line already in its log (after `options.after`) and each new one as it
   * comes, until the container stops or the returned function is called. Lines come in order, each once.
   */
  followLogs(name: string, options: FollowLogsOptions): () => void;

  /**
   * One attempt of `check` on a running container, bounded by `timeoutMs`: null when it passed, otherwise why not.
   * Unlike `waitReady` it never retries, so a caller that checks many containers on a period (liveness) decides the
   * pace. `host`, the container's address from `list`, spares the backend a lookup for TCP and HTTP checks; exec
   * checks run through the engine's exec API, never a process on the host.
   */
  probe(name: string, check: ReadinessCheck, options: ProbeOptions): Promise<string | null>;

  /**
   * Starts an exited container again in place: same name, spec and output so far, as Kubernetes restarts a crashed
   * container in its pod. Resolves with it once the engine runs it; rejects with NotReadyError when there is no such
   * container.
   */
  restart(name: string): Promise<Container>;

  /** The nodes containers run on, in the backend's order (the manager first on a swarm); one on a one-host backend. */
  listNodes(): Promise<ClusterNode[]>;
}

/** A machine the backend runs containers on, as an administrator sees it (`deis nodes`). */
export interface ClusterNode {
  /** The backend's ID of the node (Swarm's node ID; the engine's ID on one host). */
  id: string;
  hostname: string;
  /** The address the node is reached at by the other nodes; null when the backend does not know one. */
  address: string | null;
  /** `down`: the manager has lost it (or its engine does not answer). */
  state: 'ready' | 'down';
  /** Whether new containers may be placed on it: `active`, or `pause`/`drain` as an administrator set it. */
  availability: 'active' | 'pause' | 'drain';
  role: 'manager' | 'worker';
  /** What an app's tags are matched against (ContainerSpec.placement). */
  labels: Record<string, string>;
  /** The platform's containers running on it. */
  containers: number;
}

export interface ProbeOptions {
  timeoutMs: number;
  /** The container's address on the platform network, when the caller knows it. */
  host?: string;
}

/** What `runTerminal` needs beyond the spec. */
export interface TerminalRunOptions {
  /** The container is killed after this long; `exited` then rejects. */
  timeoutMs: number;
  /** The terminal's first size, in character cells. */
  columns: number;
  rows: number;
  /** Receives what the process writes to its terminal (stdout and stderr are one stream on a terminal), as it comes. */
  onOutput: (chunk: Buffer) => void;
}

/** A one-off container running on a terminal of its own, as `runTerminal` gives it. */
export interface TerminalRun {
  /** Bytes typed on the terminal; its line discipline interprets them, so 0x03 (Ctrl-C) interrupts the process. */
  write(data: Buffer): void;
  /** Gives the terminal a new size; the process gets SIGWINCH. A run that has ended ignores it. */
  resize(columns: number, rows: number): Promise<void>;
  /**
   * Stops reading the process's output until `resume`: for a client slower than the process, whose writes then block
   * as they would on a slow terminal, instead of the output piling up in memory.
   */
  pause(): void;
  resume(): void;
  /**
   * Settles once the process has ended, all its output has been delivered and the container is removed: resolves with
   * the exit code, rejects when the time limit passed or the container was killed by `kill`.
   */
  readonly exited: Promise<number>;
  /** Kills the process and removes the container at once; `exited` settles. Safe to call more than once. */
  kill(): Promise<void>;
}

