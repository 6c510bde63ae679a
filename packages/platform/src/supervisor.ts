/**
 * Keeps the platform process running: `./platform up` starts this supervisor in the background, and it starts
 * `platform.js run` and starts it again whenever it dies after having become ready, waiting longer after each death
 * in a row (1 s doubling to 30 s; a run that lasted a minute resets the wait). Apps keep serving meanwhile: their
 * containers and nginx do not depend on the platform process. A run that dies before it was ever ready is a failed
 * start, not a crash: the supervisor exits with its code, for `up` to report.
 * @module
 */
import { spawn } from 'node:child_process';

/** What the platform process sends the supervisor (over the IPC channel) once it serves. */
export const READY_MESSAGE = 'deis-platform-ready';

export interface SupervisorOptions {
  command: string;
  args: string[];
  log: (line: string) => void;
  /** How long the first wait after a death is; doubled after each death in a row. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A run at least this long resets the wait. */
  stableAfterMs?: number;
}

export interface Supervisor {
  /** Resolves with the exit code the supervisor should end with: the failed start's, or 0 after `stop`. */
  readonly done: Promise<number>;
  /** How many times the platform process has been started. */
  readonly starts: number;
  /** The running platform process's pid, if one runs. */
  readonly pid: number | undefined;
  /** Stops the platform process (SIGTERM) and restarts it no more. */
  stop(): Promise<number>;
}

export function startSupervisor(options: SupervisorOptions): Supervisor {
  const firstDelay = options.firstDelayMs ?? 1_000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const stableAfter = options.stableAfterMs ?? 60_000;
  let stopping = false;
  let everReady = false;
  let delay = firstDelay;
  let starts = 0;
  let child: ReturnType<typeof spawn> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const launch = () => {
    timer = undefined;
    if (stopping) return finish(0);
    starts++;
    const began = Date.now();
    const running = spawn(options.command, options.args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = running;
    running.on('message', (message) => {
      if (message === READY_MESSAGE) everReady = true;
    });
    running.once('exit', (code, signal) => {
      child = null;
      if (stopping) return finish(0);
      if (!everReady) {
        options.log(`the platform exited before it was ready (${signal ?? `code ${code}`}); not restarting it`);
        return finish(code ?? 1);
      }
      if (Date.now() - began >= stableAfter) delay = firstDelay;
      options.log(`the platform exited (${signal ?? `code ${code}`}); starting it again in ${Math.round(delay / 1000)} s`);
      timer = setTimeout(launch, delay);
      delay = Math.min(delay * 2, maxDelay);
    });
  };
  launch();

  return {
    done,
    get starts() {
      return starts;
    },
    get pid() {
      return child?.pid;
    },
    async stop() {
      stopping = true;
      if (timer !== undefined) {
        clearTimeout(timer);
        finish(0);
      }
      child?.kill('SIGTERM');
      return done;
    },
  };
}
