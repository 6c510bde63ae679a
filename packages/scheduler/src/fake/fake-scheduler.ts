/**
 * An in-memory scheduler for fast controller tests. Containers "run" at once and are ready at once, unless a test
 * tells the fake otherwise: `failNext` makes an operation throw, `neverReadyImage` makes an image's containers exit at
 * start, as a crashing app does.
 * @module
 */
import { EventEmitter } from 'node:events';
import { NotReadyError, SchedulerUnavailableError } from '../scheduler.ts';
import type {
  Container,
  ContainerEvent,
  ContainerSpec,
  LogLine,
  ReadinessCheck,
  RunOptions,
  RunResult,
  Scheduler,
} from '../scheduler.ts';

type Operation = 'start' | 'stop' | 'list' | 'run' | 'waitReady';

interface FakeContainer {
  spec: ContainerSpec;
  container: Container;
  output: LogLine[];
}

function matches(labels: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

export class FakeScheduler implements Scheduler {
  readonly #containers = new Map<string, FakeContainer>();
  readonly #failures = new Map<Operation, number>();
  readonly #crashingImages = new Set<string>();
  readonly #imagePorts = new Map<string, number[]>();
  readonly #events = new EventEmitter();
  #nextAddress = 2;
  /** How one-off runs answer; the default echoes the command. */
  runHandler: (spec: ContainerSpec) => RunResult = (spec) => ({ exitCode: 0, output: `${[...(spec.entrypoint ?? []), ...(spec.command ?? [])].join(' ')}\n` });

  /** The next `times` calls of `operation` throw SchedulerUnavailableError. */
  failNext(operation: Operation, times = 1): void {
    this.#failures.set(operation, times);
  }

  /** Containers of this image exit with code 1 at start and never become ready. */
  crashImage(image: string): void {
    this.#crashingImages.add(image);
  }

  /** Declares an image and the ports it EXPOSEs; undeclared images have none but exist. */
  defineImage(image: string, ports: number[]): void {
    this.#imagePorts.set(image, [...ports].sort((a, b) => a - b));
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
    if (this.#containers.has(spec.name)) throw new Error(`container name ${spec.name} is already in use`);
    const crashes = this.#crashingImages.has(spec.image);
    const container: Container = {
      name: spec.name,
      labels: { ...spec.labels },
      state: crashes ? 'crashed' : 'up',
      startedAt: new Date(),
      address: spec.port !== undefined && !crashes ? { host: `100.64.0.${this.#nextAddress++}`, port: spec.port } : null,
      exitCode: crashes ? 1 : null,
    };
    const output: LogLine[] = crashes ? [{ time: new Date(), stream: 'stderr', text: 'Error: app crashed at start' }] : [];
    this.#containers.set(spec.name, { spec, container, output });
    this.#emit(spec.name, spec.labels, container.state);
    return { ...container };
  }

  async waitReady(name: string, _check: ReadinessCheck, _timeoutMs: number): Promise<void> {
    this.#maybeFail('waitReady');
    const entry = this.#containers.get(name);
    if (!entry) throw new NotReadyError(`container ${name} does not exist`, []);
    if (entry.container.state !== 'up') {
      throw new NotReadyError(`container ${name} exited with code ${entry.container.exitCode ?? 'unknown'}`, entry.output.map((l) => l.text));
    }
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

  async run(spec: ContainerSpec, _options: RunOptions): Promise<RunResult> {
    this.#maybeFail('run');
    return this.runHandler(spec);
  }

  async logs(name: string, lines: number): Promise<LogLine[]> {
    return (this.#containers.get(name)?.output ?? []).slice(-lines);
  }

  /** Makes a running container print a line, as an app would. */
  print(name: string, text: string): void {
    this.#containers.get(name)?.output.push({ time: new Date(), stream: 'stdout', text });
  }

  /** Makes a running container exit, as a crash would. */
  crash(name: string, exitCode = 1): void {
    const entry = this.#containers.get(name);
    if (!entry) return;
    entry.container = { ...entry.container, state: exitCode === 0 ? 'down' : 'crashed', exitCode, address: null };
    this.#emit(name, entry.spec.labels, entry.container.state);
  }

  async imagePorts(image: string): Promise<number[] | null> {
    return this.#imagePorts.get(image) ?? [];
  }

  watch(labels: Record<string, string>, listener: (event: ContainerEvent) => void): () => void {
    const filtered = (event: ContainerEvent) => {
      if (matches(event.labels, labels)) listener(event);
    };
    this.#events.on('event', filtered);
    return () => this.#events.off('event', filtered);
  }
}
