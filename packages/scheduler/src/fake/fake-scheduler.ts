/**
 * An in-memory scheduler for fast controller tests. Containers "run" at once and are ready at once, unless a test
 * tells the fake otherwise: `failNext` makes an operation throw, `crashImage` makes an image's containers exit at
 * start, as a crashing app does, and `behaviour` scripts what any container prints, whether it exits and which
 * readiness checks it passes. Time never passes in the fake: a check that would never pass fails at once.
 * It passes the suite of `scheduler-contract.ts` (see fake-scheduler.contract.test.ts).
 * @module
 */
import { EventEmitter } from 'node:events';
import { OutputTail } from '../output-tail.ts';
import { ContainerNameInUseError, ImageInUseError, ImageNotFoundError, ImagePullDeniedError, NotReadyError, SchedulerUnavailableError } from '../scheduler.ts';
import type {
  ClusterNode,
  Container,
  ContainerEvent,
  ContainerSpec,
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

type Operation = 'start' | 'stop' | 'list' | 'run' | 'waitReady' | 'removeImage' | 'stats' | 'probe' | 'restart' | 'listNodes';

/** A fake node: what `listNodes` reports, less the count of containers, which the fake works out. */
export type FakeNode = Omit<ClusterNode, 'containers'>;

/** What a started container does, as the fake's stand-in for the program it would run. */
export interface FakeBehaviour {
  /** What it prints at start, in order. */
  output?: Array<Pick<LogLine, 'stream' | 'text'>>;
  /** Set: it exits with this code right after printing. */
  exitCode?: number;
  /** Whether a readiness check passes; absent: every check passes. */
  ready?: (check: ReadinessCheck) => boolean;
  /** The CPU `stats` reports, in thousandths of a core; absent: 0 (idle). `setStats` changes it later. */
  cpuMillis?: number;
}

/**
 * The fake's stand-in for a program on a terminal (`runTerminal`): a handler given one of these prints, reads what is
 * typed (`onInput`), hears of resizes (`onResize`) and exits.
 */
export interface FakeTerminal {
  readonly spec: ContainerSpec;
  readonly columns: number;
  readonly rows: number;
  print(text: string): void;
  exit(code: number): void;
  onInput: (data: Buffer) => void;
  onResize: () => void;
}

/**
 * A shell of a few words, the default program of a fake terminal: it echoes what is typed, prints `$ ` as its prompt,
 * answers `stty size` with the terminal's size, `echo <words>` with the words, `exit <n>` by exiting with n, and
 * shows Ctrl-C as `^C`.
 */
export function fakeShell(terminal: FakeTerminal): void {
  let line = '';
  terminal.print('$ ');
  terminal.onInput = (data) => {
    for (const char of data.toString('utf8')) {
      if (char === '\x03') {
        line = '';
        terminal.print('^C\r\n$ ');
      } else if (char === '\r' || char === '\n') {
        terminal.print('\r\n');
        const exit = /^exit(?:\s+(\d+))?$/.exec(line.trim());
        if (exit) return terminal.exit(Number(exit[1] ?? 0));
        if (line.trim() === 'stty size') terminal.print(`${terminal.rows} ${terminal.columns}\r\n`);
        else if (line.startsWith('echo ')) terminal.print(`${line.slice(5)}\r\n`);
        line = '';
        terminal.print('$ ');
      } else {
        line += char;
        terminal.print(char);
      }
    }
  };
}

interface FakeContainer {
  spec: ContainerSpec;
  container: Container;
  output: LogLine[];
  ready: (check: ReadinessCheck) => boolean;
  /** null: the engine has no sample of it yet. */
  cpuMillis: number | null;
}

function matches(labels: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

export class FakeScheduler implements Scheduler {
  readonly #containers = new Map<string, FakeContainer>();
  readonly #failures = new Map<Operation, number>();
  readonly #crashingImages = new Set<string>();
  readonly #imagePorts = new Map<string, number[]>();
  readonly #missingImages = new Set<string>();
  readonly #imageFiles = new Map<string, Set<string>>();
  /**
   * Images a registry would give (ensureImage makes them present), give only with a login, or refuse; every other
   * missing one is not found.
   */
  readonly #pullable = new Map<string, { answer: 'give' | 'refuse'; login?: RegistryLogin }>();
  readonly #events = new EventEmitter();
  #nextAddress = 2;
  /**
   * How one-off runs answer; the default echoes the command. What a handler passes to `print` is output given while
   * the run goes on (to `onOutput` at once), before the result's own `output`.
   */
  runHandler: (spec: ContainerSpec, print: (text: string) => void) => RunResult | Promise<RunResult> = (spec) => ({ exitCode: 0, output: `${[...(spec.entrypoint ?? []), ...(spec.command ?? [])].join(' ')}\n` });
  /** What runs on a fake terminal (`runTerminal`); the default is `fakeShell`. */
  terminalHandler: (terminal: FakeTerminal) => void = fakeShell;
  /** How started containers behave; the default runs quietly and passes every check, except `crashImage` images. */
  behaviour: (spec: ContainerSpec) => FakeBehaviour = (spec) =>
    this.#crashingImages.has(spec.image) ? { output: [{ stream: 'stderr', text: 'Error: app crashed at start' }], exitCode: 1 } : {};

  /**
   * The nodes `listNodes` reports; by default one, labelled `nodeLabels`. A running container counts on the first
   * ready, active node carrying its spec's placement labels, as the first fit of a real backend would place it.
   */
  nodes: FakeNode[];

  constructor(options: { nodeLabels?: Record<string, string> } = {}) {
    // Each log follower listens too: a controller test may follow more containers than EventEmitter's default ten.
    this.#events.setMaxListeners(0);
    this.nodes = [{ id: 'fake-node-1', hostname: 'fake-node-1', address: '127.0.0.1', state: 'ready', availability: 'active', role: 'manager', labels: { ...options.nodeLabels } }];
  }

  /** The next `times` calls of `operation` throw SchedulerUnavailableError. */
  failNext(operation: Operation, times = 1): void {
    this.#failures.set(operation, times);
  }

  /** Containers of this image exit with code 1 at start and never become ready. */
  crashImage(image: string): void {
    this.#crashingImages.add(image);
  }

  /**
   * Declares an image, the ports it EXPOSEs and the executables it has (e.g. `/bin/bash`); undeclared images have
   * neither but exist.
   */
  defineImage(image: string, ports: number[], files: string[] = []): void {
    this.#missingImages.delete(image);
    this.#imagePorts.set(image, [...ports].sort((a, b) => a - b));
    this.#imageFiles.set(image, new Set(files));
  }

  /**
   * Declares a missing image that a registry gives (`ensureImage` then makes it present) or refuses; with `login`, it
   * gives it only to a pull with that login and refuses every other.
   */
  inRegistry(image: string, answer: 'give' | 'refuse', login?: RegistryLogin): void {
    this.#missingImages.add(image);
    this.#pullable.set(image, login ? { answer, login } : { answer });
  }


  /** Every container's spec, for assertions on names, env and labels. */
  specs(): ContainerSpec[] {
    return [...this.#containers.values()].map((c) => c.spec);
  }

  #maybeFail(operation: Operation): void {
    const left = this.#failures.get(operation) ?? 0;
    if (left <= 0) return;
    this.#failures.set(operation, left - 1);
    throw new SchedulerUnavailableError(`fake scheduler: ${operation} failed on purpose`);
  }

  #emit(name: string, labels: Record<string, string>, state: ContainerEvent['state']): void {
    this.#events.emit('event', { name, labels, state } satisfies ContainerEvent);
  }

  async start(spec: ContainerSpec): Promise<Container> {
    this.#maybeFail('start');
    if (this.#missingImages.has(spec.image)) throw new ImageNotFoundError(spec.image);
    if (this.#containers.has(spec.name)) throw new ContainerNameInUseError(spec.name);
    const behaviour = this.behaviour(spec);
    const now = new Date();
    const container: Container = {
      name: spec.name,
      labels: { ...spec.labels },
      state: 'up',
      startedAt: now,
      address: spec.port !== undefined ? { host: `100.64.0.${this.#nextAddress++}`, port: spec.port } : null,
      exitCode: null,
    };
    const output: LogLine[] = (behaviour.output ?? []).map((line) => ({ time: now, ...line }));
    const entry: FakeContainer = { spec, container, output, ready: behaviour.ready ?? (() => true), cpuMillis: behaviour.cpuMillis ?? 0 };
    this.#containers.set(spec.name, entry);
    this.#emit(spec.name, spec.labels, 'up');
    // A real engine returns once the process runs; an exit comes after, so the exit is seen as an event too.
    if (behaviour.exitCode !== undefined) this.crash(spec.name, behaviour.exitCode);
    return { ...entry.container };
  }

  async waitReady(name: string, check: ReadinessCheck, timeoutMs: number): Promise<void> {
    this.#maybeFail('waitReady');
    const entry = this.#containers.get(name);
    if (!entry) throw new NotReadyError(`container ${name} does not exist`, []);
    const lastLines = entry.output.slice(-20).map((l) => l.text);
    if (entry.container.state !== 'up') {
      throw new NotReadyError(`container ${name} exited with code ${entry.container.exitCode ?? 'unknown'} before it became ready`, lastLines);
    }
    if (!entry.ready(check)) throw new NotReadyError(`container ${name} did not become ready within ${timeoutMs} ms`, lastLines, { timedOut: true });
  }

  async stop(name: string, _graceSeconds: number): Promise<void> {
    this.#maybeFail('stop');
    const entry = this.#containers.get(name);
    if (!entry) return;
    this.#containers.delete(name);
    this.#emit(name, entry.spec.labels, 'removed');
  }

  async list(labels: Record<string, string>): Promise<Container[]> {
    this.#maybeFail('list');
    return [...this.#containers.values()].filter((c) => matches(c.container.labels, labels)).map((c) => ({ ...c.container }));
  }

  async run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    this.#maybeFail('run');
    if (this.#missingImages.has(spec.image)) throw new ImageNotFoundError(spec.image);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`one-off container ${spec.name} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      const tail = new OutputTail(options.maxOutputBytes);
      const print = (text: string) => {
        if (text === '') return;
        tail.push(text);
        options.onOutput?.(text);
      };
      const result = await Promise.race([Promise.resolve(this.runHandler(spec, print)), timeout]);
      print(result.output);
      return { ...result, output: tail.text() };
    } finally {
      clearTimeout(timer);
    }
  }

  async logs(name: string, lines: number): Promise<LogLine[]> {
    return (this.#containers.get(name)?.output ?? []).slice(-lines);
  }

  /** Makes a running container print a line, as an app would. */
  print(name: string, text: string): void {
    this.#containers.get(name)?.output.push({ time: new Date(), stream: 'stdout', text });
    this.#events.emit('printed', name);
  }

  /** Makes a running container exit, as a crash would. */
  crash(name: string, exitCode = 1): void {
    const entry = this.#containers.get(name);
    if (!entry) return;
    entry.container = { ...entry.container, state: exitCode === 0 ? 'down' : 'crashed', exitCode, address: null };
    this.#emit(name, entry.spec.labels, entry.container.state);
  }

  async imagePorts(image: string): Promise<number[] | null> {
    if (this.#missingImages.has(image)) return null;
    return this.#imagePorts.get(image) ?? [];
  }

  async imageHasFile(image: string, path: string): Promise<boolean | null> {
    if (this.#missingImages.has(image)) return null;
    return this.#imageFiles.get(image)?.has(path) ?? false;
  }

  async ensureImage(image: string, login?: RegistryLogin): Promise<void> {
    if (!this.#missingImages.has(image)) return;
    const pullable = this.#pullable.get(image);
    if (!pullable) throw new ImageNotFoundError(image);
    const wrongLogin = pullable.login !== undefined && (login?.username !== pullable.login.username || login.password !== pullable.login.password);
    if (pullable.answer === 'refuse' || wrongLogin) throw new ImagePullDeniedError(image, 'denied: requested access to the resource is denied');
    this.#missingImages.delete(image);
  }

  /**
   * Afterwards the image does not exist: `start` and `run` refuse it, `imagePorts` gives null. Tests also use it to
   * declare a missing image. Every name is an image of its own here, so a container using the name keeps it.
   */
  async removeImage(reference: string): Promise<void> {
    this.#maybeFail('removeImage');
    const user = [...this.#containers.values()].find((c) => c.spec.image === reference);
    if (user) throw new ImageInUseError(reference, `container ${user.spec.name} uses it`);
    this.#missingImages.add(reference);
    this.#imagePorts.delete(reference);
    this.#imageFiles.delete(reference);
  }

  watch(labels: Record<string, string>, listener: (event: ContainerEvent) => void): () => void {
    const filtered = (event: ContainerEvent) => {
      if (matches(event.labels, labels)) listener(event);
    };
    this.#events.on('event', filtered);
    return () => this.#events.off('event', filtered);
  }

  /** Sets what `stats` reports for a container from now on (null: no sample yet), as its load would. */
  setStats(name: string, cpuMillis: number | null): void {
    const entry = this.#containers.get(name);
    if (entry) entry.cpuMillis = cpuMillis;
  }

  async stats(name: string): Promise<ContainerStats | null> {
    this.#maybeFail('stats');
    const entry = this.#containers.get(name);
    if (!entry || entry.container.state !== 'up' || entry.cpuMillis === null) return null;
    return { cpuMillis: entry.cpuMillis, time: new Date() };
  }

  async runTerminal(spec: ContainerSpec, options: TerminalRunOptions): Promise<TerminalRun> {
    this.#maybeFail('run');
    if (this.#missingImages.has(spec.image)) throw new ImageNotFoundError(spec.image);
    if (this.#containers.has(spec.name)) throw new ContainerNameInUseError(spec.name);
    const container: Container = { name: spec.name, labels: { ...spec.labels }, state: 'up', startedAt: new Date(), address: null, exitCode: null };
    this.#containers.set(spec.name, { spec, container, output: [], ready: () => true, cpuMillis: 0 });
    this.#emit(spec.name, spec.labels, 'up');
    let settle: { resolve: (code: number) => void; reject: (error: Error) => void } | undefined;
    const exited = new Promise<number>((resolve, reject) => {
      settle = { resolve, reject };
    });
    exited.catch(() => undefined);
    let size = { columns: options.columns, rows: options.rows };
    let ended = false;
    let paused = false;
    const heldOutput: string[] = [];
    const end = (outcome: number | Error) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      this.#containers.delete(spec.name);
      this.#emit(spec.name, spec.labels, 'removed');
      if (typeof outcome === 'number') settle!.resolve(outcome);
      else settle!.reject(outcome);
    };
    const timer = setTimeout(() => end(new Error(`one-off container ${spec.name} did not finish within ${options.timeoutMs} ms and was stopped`)), options.timeoutMs);
    const terminal: FakeTerminal = {
      spec,
      get columns() {
        return size.columns;
      },
      get rows() {
        return size.rows;
      },
      print: (text) => {
        if (ended) return;
        if (paused) heldOutput.push(text);
        else options.onOutput(Buffer.from(text));
      },
      exit: (code) => end(code),
      onInput: () => undefined,
      onResize: () => undefined,
    };
    this.terminalHandler(terminal);
    return {
      write: (data) => {
        if (!ended) terminal.onInput(data);
      },
      resize: async (columns, rows) => {
        if (ended) return;
        size = { columns, rows };
        terminal.onResize();
      },
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
        const held = heldOutput.splice(0);
        for (const text of held) terminal.print(text);
      },
      exited,
      kill: async () => {
        end(new Error(`one-off container ${spec.name} was stopped`));
        await exited.catch(() => undefined);
      },
    };
  }

  /** Cursors are a line's index in the container's output. Lines come as `print` adds them. */
  followLogs(name: string, options: FollowLogsOptions): () => void {
    let stopped = false;
    let next = options.after === undefined ? 0 : Number(options.after) + 1;
    const deliver = () => {
      const output = this.#containers.get(name)?.output ?? [];
      while (!stopped && next < output.length) {
        const line = output[next] as LogLine;
        options.onLine({ ...line, cursor: String(next).padStart(12, '0') });
        next += 1;
      }
    };
    const stop = () => {
      stopped = true;
      this.#events.off('printed', onPrinted);
      this.#events.off('event', onEvent);
    };
    const finish = () => {
      if (stopped) return;
      deliver();
      stop();
      options.onEnd?.();
    };
    const onPrinted = (printed: string) => {
      if (printed === name) deliver();
    };
    const onEvent = (event: ContainerEvent) => {
      if (event.name === name && event.state !== 'up' && event.state !== 'starting') finish();
    };
    this.#events.on('printed', onPrinted);
    this.#events.on('event', onEvent);
    // As the engine's stream does, the first lines come after the call returns.
    queueMicrotask(() => {
      if (stopped) return;
      deliver();
      if (this.#containers.get(name)?.container.state !== 'up') finish();
    });
    return stop;
  }

  /** Changes which checks a running container passes from now on, as an app that hangs or recovers would. */
  setReady(name: string, ready: (check: ReadinessCheck) => boolean): void {
    const entry = this.#containers.get(name);
    if (entry) entry.ready = ready;
  }

  async probe(name: string, check: ReadinessCheck, options: ProbeOptions): Promise<string | null> {
    this.#maybeFail('probe');
    const entry = this.#containers.get(name);
    if (!entry) return `container ${name} does not exist`;
    if (entry.container.state !== 'up') return `container ${name} is not running`;
    return entry.ready(check) ? null : `${check.kind} check of ${name} failed within ${options.timeoutMs} ms`;
  }

  /** The container runs again as its behaviour says: one of a crashing image exits again at once. */
  async restart(name: string): Promise<Container> {
    this.#maybeFail('restart');
    const entry = this.#containers.get(name);
    if (!entry) throw new NotReadyError(`container ${name} does not exist`, []);
    if (entry.container.state === 'up') return { ...entry.container };
    const behaviour = this.behaviour(entry.spec);
    const now = new Date();
    entry.container = {
      ...entry.container,
      state: 'up',
      startedAt: now,
      exitCode: null,
      address: entry.spec.port !== undefined ? { host: `100.64.0.${this.#nextAddress++}`, port: entry.spec.port } : null,
    };
    entry.output.push(...(behaviour.output ?? []).map((line) => ({ time: now, ...line })));
    entry.ready = behaviour.ready ?? (() => true);
    this.#emit(name, entry.spec.labels, 'up');
    if (behaviour.exitCode !== undefined) this.crash(name, behaviour.exitCode);
    return { ...entry.container };
  }

  async listNodes(): Promise<ClusterNode[]> {
    this.#maybeFail('listNodes');
    const counts = new Map<string, number>();
    for (const { spec, container } of this.#containers.values()) {
      if (container.state !== 'up') continue;
      const node = this.nodes.find((candidate) => candidate.state === 'ready' && candidate.availability === 'active' && matches(candidate.labels, spec.placement ?? {}));
      if (node) counts.set(node.id, (counts.get(node.id) ?? 0) + 1);
    }
    return this.nodes.map((node) => ({ ...node, labels: { ...node.labels }, containers: counts.get(node.id) ?? 0 }));
  }
}
