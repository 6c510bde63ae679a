/**
 * Which tasks' containers the nodes say are running before the manager does. A node's agent reports its task's state
 * to the manager in batches: on the test cluster the manager said "running" 0.1–0.2 s after the node's engine had
 * started the container, and a deploy waits for exactly that. The nodes' own container events say it at once, so
 * the backend takes a task whose container a node started for running, while the manager still has it starting.
 * @module
 */
import type Docker from 'dockerode';
import type { DockerScheduler } from '../docker/docker-scheduler.ts';

/** Where a started task's container runs: its node's engine and the container's name there. */
export interface StartedContainer {
  docker: Docker;
  name: string;
}

/** The task ID in a task container's name (`<service>.<slot>.<task id>`), or undefined for any other container. */
export function taskIdOf(containerName: string): string | undefined {
  return /^\/?[^.]+\.\d+\.([a-z0-9]+)$/.exec(containerName)?.[1];
}

export class TaskStarts {
  readonly #started = new Map<string, StartedContainer>();
  readonly #wakers = new Set<() => void>();
  #stops: Array<() => void> | undefined;

  /** Follows the container events of every node's engine (once; `engines[i]` is `nodes[i]` as a one-engine scheduler). */
  follow(engines: DockerScheduler[], nodes: Docker[]): void {
    if (this.#stops) return;
    this.#stops = engines.map((engine, index) =>
      engine.watch({}, (event) => {
        const task = taskIdOf(event.name);
        if (!task) return;
        if (event.state === 'up') this.#started.set(task, { docker: nodes[index]!, name: event.name.replace(/^\//, '') });
        else this.#started.delete(task);
        for (const wake of [...this.#wakers]) wake();
      }),
    );
  }

  /** The container a node started for `taskId`, if one did and it has not stopped since. */
  get(taskId: string): StartedContainer | undefined {
    return this.#started.get(taskId);
  }

  /** Forgets a task once the manager's own word about it is in (running, or ended). */
  forget(taskId: string): void {
    this.#started.delete(taskId);
  }

  /** Resolves at the next container event, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  close(): void {
    for (const stop of this.#stops ?? []) stop();
    this.#stops = undefined;
    for (const wake of [...this.#wakers]) wake();
    this.#started.clear();
  }
}
