/**
 * A one-off Swarm task on a terminal (`TTY` and an open stdin in its container spec), driven through the engine of the
 * node that runs it: the part of `SwarmScheduler.runTerminal` after the task's container exists.
 *
 * Swarm starts the container itself, so nothing can attach before the start as the Docker backend does, and what the
 * process prints first (a prompt) would be lost to an attach made after it. The output is therefore read from the
 * container's followed log, which on a terminal is the raw stream from the first byte; the attach carries stdin only.
 * The price: `pause` holds back the reading of the log, not the process, whose output meanwhile waits in the log file
 * on the node (bounded by the service's log size) instead of blocking its writes.
 * @module
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { terminalRun } from '../docker/terminal-run.ts';
import type { TerminalRun, TerminalRunOptions } from '../scheduler.ts';

/**
 * `container` is the task's container on its node's engine; `remove` removes the task's service (and waits for the
 * node to remove the container), and is called once, whatever ends the run.
 */
export async function swarmTerminalRun(container: Docker.Container, name: string, options: TerminalRunOptions, remove: () => Promise<void>): Promise<TerminalRun> {
  const output = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  // A process that has already ended takes no input: the engine refuses the attach, and the run goes on without it.
  const input = (await container.attach({ stream: true, stdin: true, stdout: false, stderr: false, hijack: true }).catch(() => undefined)) as Duplex | undefined;
  input?.on('error', () => undefined);
  input?.on('data', () => undefined);

  const run = terminalRun(container, name, { output, input, remove }, options);
  await run.resize(options.columns, options.rows);
  return run;
}
