/**
 * `deis run bash` on a terminal: one WebSocket session (the protocol of `@deis/sdk/run-protocol`) driving one
 * one-off container on a terminal of its own. The container lives exactly as long as the session: the process's exit
 * ends the session, and a session that ends first (the client closed, the connection dropped, the controller stops)
 * kills the container, so nothing is left running for nobody.
 * @module
 */
import { DeisError, ValidationError } from '@deis/core/errors';
import type { TerminalRun } from '@deis/scheduler/scheduler';
import type { ClientMessage, ServerMessage, StartMessage } from '@deis/sdk/run-protocol';
import { errorCloseCode } from '@deis/sdk/run-protocol';
import type { WebSocket } from 'ws';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { statusOfError } from '../http/error-handler.ts';
import { runSpec } from './container-spec.ts';
import { RUN_TIMEOUT_MS } from './one-off-run.ts';
import { runPodName } from './pod-names.ts';
import { RunQuotaError, withRunSlot } from './quotas.ts';
import { currentReleaseContext } from './release-context.ts';
import { rolloutError } from './rollout-errors.ts';

/** Labels a one-off container with how it runs: `interactive` or `detached` (the contract's runs carry none). */
export const RUN_MODE_LABEL = 'io.deis.run';

/** The client must say what to run within this long of the upgrade. */
const START_TIMEOUT_MS = 10_000;
/**
 * A ping this often keeps an idle shell's connection from being closed by a proxy (the router's read timeout), and a
 * client that answered none of the last two is gone without a close: its container is killed.
 */
const PING_INTERVAL_MS = 30_000;
/** Output the client has not taken yet: above the high mark, the container's output is no longer read (so a flood
 * blocks the process, as a slow terminal does) until the buffer is down to the low mark. */
const BUFFER_HIGH_BYTES = 1024 * 1024;
const BUFFER_LOW_BYTES = 64 * 1024;
/** Keys typed before the container runs that are kept for it; more is dropped. */
const TYPED_AHEAD_BYTES = 64 * 1024;
/** Terminal sizes outside this are someone's mistake; the engine would refuse them. */
const MAX_CELLS = 10_000;

interface Sessions {
  open: Set<WebSocket>;
  /** Kills of the containers of sessions that have closed, until the engine has removed them. */
  ending: Set<Promise<void>>;
}

const sessionsByDeps = new WeakMap<object, Sessions>();

function sessionsOf(deps: Pick<ControllerDeps, 'scheduler'>): Sessions {
  let found = sessionsByDeps.get(deps.scheduler);
  if (!found) {
    found = { open: new Set(), ending: new Set() };
    sessionsByDeps.set(deps.scheduler, found);
  }
  return found;
}

/** How many interactive sessions are open on this controller. */
export function openInteractiveRuns(deps: Pick<ControllerDeps, 'scheduler'>): number {
  return sessionsOf(deps).open.size;
}

function size(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CELLS) {
    throw new ValidationError(`${name} must be a whole number from 1 to ${MAX_CELLS}`);
  }
  return value;
}

/** The first message, checked: anything else is a 400 the client is told about. */
export function parseStartMessage(text: string): StartMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('the first message must be a JSON start message');
  }
  const message = parsed as Partial<StartMessage> | null;
  if (message === null || typeof message !== 'object' || message.type !== 'start') throw new ValidationError('the first message must be a JSON start message');
  if (typeof message.command !== 'string' || message.command.trim() === '') throw new ValidationError('command is a required field');
  const term = typeof message.term === 'string' && /^[A-Za-z0-9._+-]{1,64}$/.test(message.term) ? message.term : 'xterm';
  return { type: 'start', command: message.command, columns: size(message.columns, 'columns'), rows: size(message.rows, 'rows'), term };
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/** Tells the client why the run failed, in the API's own words and status, and closes. */
function fail(socket: WebSocket, error: unknown): void {
  const known = error instanceof RunQuotaError ? { status: 429, detail: error.message } : undefined;
  const deis = error instanceof DeisError ? error : rolloutError(error, 'the command could not run: ');
  const { status, detail } = known ?? { status: statusOfError(deis), detail: deis.message };
  send(socket, { type: 'error', status, detail });
  if (socket.readyState === socket.OPEN) socket.close(errorCloseCode(status), detail.slice(0, 120));
}

/** Serves one upgraded connection of `GET /v2/apps/{app}/run/attach`, for a user already allowed to use the app. */
export function serveInteractiveRun(deps: ControllerDeps, app: { uuid: string; id: string }, username: string, socket: WebSocket): void {
  const sessions = sessionsOf(deps);
  sessions.open.add(socket);
  let run: TerminalRun | undefined;
  let closed = false;
  let paused = false;
  let missedPongs = 0;

  const ping = setInterval(() => {
    if (missedPongs >= 2) return socket.terminate();
    missedPongs += 1;
    socket.ping();
  }, PING_INTERVAL_MS);
  socket.on('pong', () => {
    missedPongs = 0;
  });
  const startTimer = setTimeout(() => fail(socket, new ValidationError(`no start message within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  socket.on('close', () => {
    closed = true;
    clearInterval(ping);
    clearTimeout(startTimer);
    sessions.open.delete(socket);
    const ending = run?.kill();
    if (ending) {
      sessions.ending.add(ending);
      void ending.finally(() => sessions.ending.delete(ending));
    }
  });

  const onOutput = (chunk: Buffer) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(chunk, { binary: true }, () => {
      if (paused && socket.bufferedAmount <= BUFFER_LOW_BYTES) {
        paused = false;
        run?.resume();
      }
    });
    if (!paused && socket.bufferedAmount > BUFFER_HIGH_BYTES) {
      paused = true;
      run?.pause();
    }
  };

  // Keys typed while the container is still starting are held for it, as a terminal holds typed-ahead input.
  const typedAhead: Buffer[] = [];
  let typedAheadBytes = 0;
  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (!run) {
      if (isBinary && typedAheadBytes + data.length <= TYPED_AHEAD_BYTES) {
        typedAhead.push(data);
        typedAheadBytes += data.length;
      }
      return;
    }
    if (isBinary) return run.write(data);
    let message: ClientMessage | null = null;
    try {
      message = JSON.parse(data.toString('utf8')) as ClientMessage;
    } catch {
      // Not a control message; keystrokes come as binary.
    }
    if (message?.type === 'resize') {
      try {
        void run.resize(size(message.columns, 'columns'), size(message.rows, 'rows')).catch(() => undefined);
      } catch {
        // A size out of range is ignored rather than ending a session over it.
      }
    }
  };

  socket.once('message', (data: Buffer, isBinary: boolean) => {
    clearTimeout(startTimer);
    let start: StartMessage;
    try {
      if (isBinary) throw new ValidationError('the first message must be a JSON start message');
      start = parseStartMessage(data.toString('utf8'));
    } catch (error) {
      return fail(socket, error);
    }
    socket.on('message', onMessage);
    void withRunSlot(deps, app.id, username, async () => {
      const context = await currentReleaseContext(deps, app, 'No build associated with this release to run this command');
      // Gone before anything was started: nothing to start.
      if (closed) return;
      const name = runPodName(app.id);
      await recordEvent(deps.db, app.uuid, `${username} on ${name} runs '${start.command}'`);
      const spec = runSpec(deps.settings.platformName, context, name, start.command);
      spec.env = { ...spec.env, TERM: start.term ?? 'xterm' };
      spec.labels = { ...spec.labels, [RUN_MODE_LABEL]: 'interactive' };
      try {
        run = await deps.scheduler.runTerminal(spec, { timeoutMs: RUN_TIMEOUT_MS, columns: start.columns, rows: start.rows, onOutput });
      } catch (error) {
        throw rolloutError(error, 'the command could not run: ');
      }
      // The client went away while the container was starting.
      if (closed) return run.kill();
      send(socket, { type: 'started', name });
      for (const keys of typedAhead.splice(0)) run.write(keys);
      let code: number;
      try {
        code = await run.exited;
      } catch (error) {
        if (closed) return;
        throw new ValidationError(error instanceof Error ? error.message : String(error));
      }
      send(socket, { type: 'exit', code });
      if (socket.readyState === socket.OPEN) socket.close(1000, 'exited');
    }).catch((error: unknown) => fail(socket, error));
  });
}

/** Ends every open session (the controller is stopping): their containers are killed and removed. */
export async function stopInteractiveRuns(deps: Pick<ControllerDeps, 'scheduler'>): Promise<void> {
  const sessions = sessionsOf(deps);
  for (const socket of [...sessions.open]) socket.terminate();
  await Promise.all([...sessions.ending]);
}
