/**
 * `deis run <command>` on a terminal: the local terminal in raw mode, joined to a terminal in a one-off container over
 * the controller's WebSocket endpoint (`@deis/sdk/run-protocol`, docs/runs.md). Every key goes to the container as a
 * byte (Ctrl-C interrupts the remote process, not this one), a resize of the local window resizes the remote one, and
 * the remote process's exit code becomes this command's. The local terminal is restored however the session ends.
 * @module
 */
import type { LookupFunction } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { ApiError } from '@deis/sdk/client';
import { attachPath } from '@deis/sdk/run-protocol';
import type { ClientMessage, ServerMessage } from '@deis/sdk/run-protocol';
import type WebSocket from 'ws';
import { CliError } from './cli-errors.ts';
import type { Profile } from './profile.ts';
import { isLocalhostName, refusalOf } from './transport.ts';

export interface TerminalIO {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number; on(event: 'resize', listener: () => void): unknown };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** Whether `deis run` should be interactive: both ends are a terminal, and nobody asked for plain output. */
export function wantsTerminal(io: { stdin: { isTTY?: boolean }; stdout: { isTTY?: boolean } }, json: boolean): boolean {
  return Boolean(io.stdin.isTTY && io.stdout.isTTY) && !json;
}

/** `http://deis.example.com` → `ws://deis.example.com/v2/apps/<app>/run/attach`. */
export function attachUrl(controller: string, app: string): string {
  const url = new URL(attachPath(app), controller);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** `.localhost` names are dialled at 127.0.0.1, as the HTTP transport does (this machine has no DNS for them). */
const loopbackLookup: LookupFunction = (_hostname, options, callback) => {
  if (options.all) (callback as unknown as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

/** Runs `command` in a new container of the app on a terminal; resolves with the remote exit code. */
export async function runOnTerminal(io: TerminalIO, profile: Profile, app: string, command: string): Promise<number> {
  // Loaded here: every other command starts without it.
  const { WebSocket } = await import('ws');
  const url = new URL(attachUrl(profile.controller, app));
  const socket: WebSocket = new WebSocket(url, {
    headers: { authorization: `token ${profile.token}` },
    rejectUnauthorized: profile.ssl_verify,
    ...(isLocalhostName(url.hostname) ? { lookup: loopbackLookup } : {}),
  });
  const send = (message: ClientMessage) => socket.send(JSON.stringify(message));
  const size = () => ({ columns: io.stdout.columns || 80, rows: io.stdout.rows || 24 });
  const onKeys = (chunk: Buffer) => socket.send(chunk, { binary: true });
  const onResize = () => {
    if (socket.readyState === WebSocket.OPEN) send({ type: 'resize', ...size() });
  };
  // Stopped from outside, the CLI still closes the session (so the container goes at once) and restores the terminal.
  const onSignal = () => socket.close(1000, 'the client was stopped');
  let raw = false;
  const restore = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    io.stdin.off('data', onKeys);
    (io.stdout as unknown as NodeJS.EventEmitter).off('resize', onResize);
    if (raw) io.stdin.setRawMode?.(false);
    raw = false;
    io.stdin.pause();
  };

  return await new Promise<number>((resolve, reject) => {
    let exitCode: number | null = null;
    let failure: Error | null = null;
    socket.on('unexpected-response', (_request, response) => {
      void refusalOf(response.statusCode ?? 500, response).then((error) => {
        failure = error;
        socket.terminate();
      });
    });
    socket.on('open', () => {
      send({ type: 'start', command, ...size(), ...(io.env.TERM ? { term: io.env.TERM } : {}) });
      io.stdin.setRawMode?.(true);
      raw = true;
      io.stdin.on('data', onKeys);
      io.stdin.resume();
      io.stdout.on('resize', onResize);
      process.once('SIGTERM', onSignal);
      process.once('SIGHUP', onSignal);
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return void io.stdout.write(data);
      let message: ServerMessage;
      try {
        message = JSON.parse(data.toString('utf8')) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'exit') exitCode = message.code;
      else if (message.type === 'error') failure = new ApiError(message.status, { detail: message.detail }, message.detail);
    });
    socket.on('error', (error) => {
      failure ??= error;
    });
    socket.on('close', () => {
      restore();
      if (exitCode !== null) resolve(exitCode);
      else reject(failure ?? new CliError('The connection to the controller was lost before the command ended.'));
    });
  });
}
