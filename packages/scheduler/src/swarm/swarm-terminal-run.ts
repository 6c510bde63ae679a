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
import { TerminalRunEndedError } from '../docker/terminal-run.ts';
import type { TerminalRun, TerminalRunOptions } from '../scheduler.ts';

/** How long the output may trail the exit: the node's engine copies the last of it into the log as the process ends. */
const OUTPUT_GRACE_MS = 2_000;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/**
 * `container` is the task's container on its node's engine; `remove` removes the task's service (and waits for the
 * node to remove the container), and is called once, whatever ends the run.
 */
export async function swarmTerminalRun(container: Docker.Container, name: string, options: TerminalRunOptions, remove: () => Promise<void>): Promise<TerminalRun> {
  const output = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  output.on('data', (chunk: Buffer) => options.onOutput(chunk));
  const outputEnded = new Promise<void>((resolve) => {
    output.once('end', resolve);
    output.once('close', resolve);
    output.once('error', () => resolve());
  });
  // A process that has already ended takes no input: the engine refuses the attach, and the run goes on without it.
  const input = (await container.attach({ stream: true, stdin: true, stdout: false, stderr: false, hijack: true }).catch(() => undefined)) as Duplex | undefined;
  input?.on('error', () => undefined);
  input?.on('data', () => undefined);

  let ending: 'timeout' | 'killed' | null = null;
  let finished = false;
  const stop = (why: 'timeout' | 'killed') => {
    ending ??= why;
    return container.kill().catch(() => undefined);
  };
  const timer = setTimeout(() => void stop('timeout'), options.timeoutMs);

  const exited = (async () => {
    try {
      // A failed wait means the container is gone or its node is away: either way the run is over.
      const code = await container.wait().then(
        (result: { StatusCode: number }) => result.StatusCode,
        () => null,
      );
      if (ending === null) await Promise.race([outputEnded, new Promise((resolve) => setTimeout(resolve, OUTPUT_GRACE_MS))]);
      if (ending !== null || code === null) throw new TerminalRunEndedError(name, ending ?? 'killed', options.timeoutMs);
      return code;
    } finally {
      finished = true;
      clearTimeout(timer);
      output.destroy();
      input?.destroy();
      await remove().catch(() => undefined);
    }
  })();
  // The caller may never look at `exited` (it went away first); a rejection nobody awaits must not crash the process.
  exited.catch(() => undefined);

  const run: TerminalRun = {
    write(data) {
      if (!finished) input?.write(data);
    },
    async resize(columns, rows) {
      if (finished) return;
      try {
        await container.resize({ w: columns, h: rows });
      } catch (error) {
        // 404, 409, 500: the process has just ended; the size no longer matters.
        if (statusOf(error) === undefined) throw error;
      }
    },
    pause() {
      output.pause();
    },
    resume() {
      output.resume();
    },
    exited,
    async kill() {
      if (!finished) await stop('killed');
      await exited.catch(() => undefined);
    },
  };
  await run.resize(options.columns, options.rows);
  return run;
}
