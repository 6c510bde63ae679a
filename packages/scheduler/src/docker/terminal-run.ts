/**
 * A one-off container on a terminal (`Tty` and an open stdin), attached before its start: the part of
 * `DockerScheduler.runTerminal` that lives after the container runs. On a terminal the engine sends one raw stream,
 * not the multiplexed frames of `log-frames.ts`. Whatever ends the run (the process's exit, the time limit, `kill`),
 * the container is removed, so an interactive session whose user went away leaves nothing behind.
 * @module
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { TerminalRun, TerminalRunOptions } from '../scheduler.ts';

/** How long the output may trail the exit: the engine copies the last of it as the process ends. */
const OUTPUT_GRACE_MS = 2_000;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/** Why `exited` rejects when the run did not end by itself. */
export class TerminalRunEndedError extends Error {
  readonly reason: 'timeout' | 'killed';

  constructor(name: string, reason: 'timeout' | 'killed', timeoutMs: number) {
    super(reason === 'timeout' ? `one-off container ${name} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped` : `one-off container ${name} was stopped`);
    this.name = 'TerminalRunEndedError';
    this.reason = reason;
  }
}

/** Where a terminal run's bytes go and come from, and how it goes away: the backends differ only here. */
export interface TerminalStreams {
  /** What the process writes to its terminal. */
  output: NodeJS.ReadableStream & { destroy(): void };
  /** Its terminal's input; none when the process ended before it could be attached. */
  input: (NodeJS.WritableStream & { destroy(): void }) | undefined;
  /** Removes the container (or what holds it); called once, whatever ended the run. */
  remove(): Promise<void>;
}

/** The engine's attach before the start: one raw stream both ways. */
export function attachedTerminalRun(container: Docker.Container, name: string, stream: Duplex, options: TerminalRunOptions): TerminalRun {
  return terminalRun(container, name, { output: stream, input: stream, remove: () => container.remove({ force: true }) }, options);
}

/**
 * The run of a container already on a terminal of its own, driven through the engine that runs it (one host's, or a
 * Swarm node's): its output, input, size, time limit and end.
 */
export function terminalRun(container: Docker.Container, name: string, streams: TerminalStreams, options: TerminalRunOptions): TerminalRun {
  const { output, input } = streams;
  let ending: 'timeout' | 'killed' | null = null;
  let finished = false;
  output.on('data', (chunk: Buffer) => options.onOutput(chunk));
  const outputEnded = new Promise<void>((resolve) => {
    output.once('end', resolve);
    output.once('close', resolve);
    output.once('error', () => resolve());
  });
  // Only `exited` removes the container, once its wait has returned: two removals at once would let one of them
  // answer while the engine is still removing, and the caller would see the container after the run ended.
  const stop = (why: 'timeout' | 'killed') => {
    ending ??= why;
    return container.kill().catch(() => undefined);
  };
  const timer = setTimeout(() => void stop('timeout'), options.timeoutMs);

  const exited = (async () => {
    try {
      // A failed wait means the container is gone or its engine is away: either way the run is over.
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
      if ((input as unknown) !== output) input?.destroy();
      await streams.remove().catch(() => undefined);
    }
  })();
  // The caller may never look at `exited` (it went away first); a rejection nobody awaits must not crash the process.
  exited.catch(() => undefined);

  return {
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
}
