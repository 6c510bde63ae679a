import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { ApiError } from '@deis/sdk/client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { attachUrl, runOnTerminal, wantsTerminal } from './terminal-session.ts';
import type { TerminalIO } from './terminal-session.ts';

/** A terminal as the CLI sees process.stdin/stdout: raw mode recorded, a size, resize events. */
function fakeTerminal() {
  const rawModes: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (raw: boolean) => void rawModes.push(raw) });
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 40 });
  const stderr = new PassThrough();
  const written: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => written.push(chunk));
  const io: TerminalIO = { stdin, stdout, stderr, env: { TERM: 'screen-256color' } };
  return { io, stdin, stdout, rawModes, screen: () => Buffer.concat(written).toString('utf8') };
}

let server: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A controller's endpoint played by the test: `serve` gets each connection and the headers it came with. */
async function endpoint(serve: (socket: WebSocket, headers: Record<string, string | string[] | undefined>) => void): Promise<string> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket, request) => serve(socket, request.headers));
  await new Promise((resolve) => server!.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const profile = (controller: string) => ({ controller, token: 'secret-token', username: 'alice', ssl_verify: true, response_limit: 100 });

describe('deis run on a terminal', () => {
  it('is wanted only when stdin and stdout are both terminals and --json is not given', () => {
    expect(wantsTerminal({ stdin: { isTTY: true }, stdout: { isTTY: true } }, false)).toBe(true);
    expect(wantsTerminal({ stdin: { isTTY: true }, stdout: { isTTY: false } }, false)).toBe(false);
    expect(wantsTerminal({ stdin: {}, stdout: { isTTY: true } }, false)).toBe(false);
    expect(wantsTerminal({ stdin: { isTTY: true }, stdout: { isTTY: true } }, true)).toBe(false);
  });

  it('speaks ws or wss to the app endpoint of the controller', () => {
    expect(attachUrl('http://deis.example.com', 'my-app')).toBe('ws://deis.example.com/v2/apps/my-app/run/attach');
    expect(attachUrl('https://deis.example.com:8443/', 'my-app')).toBe('wss://deis.example.com:8443/v2/apps/my-app/run/attach');
  });

  it('starts with the size and TERM, sends keys and resizes, prints the output, and exits with the remote code', async () => {
    const received: unknown[] = [];
    let token: unknown;
    const url = await endpoint((socket, headers) => {
      token = headers.authorization;
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        received.push(isBinary ? data.toString('utf8') : JSON.parse(data.toString('utf8')));
        if (!isBinary && received.length === 1) {
          socket.send(JSON.stringify({ type: 'started', name: 'my-app-run-abcde' }));
          socket.send(Buffer.from('$ '), { binary: true });
        }
        if (isBinary && data.toString('utf8') === '\x03') {
          socket.send(JSON.stringify({ type: 'exit', code: 130 }));
          socket.close(1000, 'exited');
        }
      });
    });
    const terminal = fakeTerminal();
    const session = runOnTerminal(terminal.io, profile(url), 'my-app', 'bash');
    await waitFor(() => terminal.screen() === '$ ');
    terminal.stdin.write('ls\r');
    terminal.stdout.columns = 100;
    terminal.stdout.rows = 30;
    terminal.stdout.emit('resize');
    await waitFor(() => received.length === 3);
    terminal.stdin.write('\x03');
    expect(await session).toBe(130);
    expect(token).toBe('token secret-token');
    expect(received).toEqual([{ type: 'start', command: 'bash', columns: 120, rows: 40, term: 'screen-256color' }, 'ls\r', { type: 'resize', columns: 100, rows: 30 }, '\x03']);
    // Raw while the session ran, and back to normal after.
    expect(terminal.rawModes).toEqual([true, false]);
  });

  it('reports a refused upgrade and an error message as API errors, and a lost connection as an error, restoring the terminal', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, done) => done(false, 403, 'Forbidden') });
    await new Promise((resolve) => server!.once('listening', resolve));
    const refusedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const refused = await runOnTerminal(fakeTerminal().io, profile(refusedUrl), 'my-app', 'bash').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(403);
    await new Promise((resolve) => server!.close(resolve));

    const failingUrl = await endpoint((socket) => {
      socket.once('message', () => {
        socket.send(JSON.stringify({ type: 'error', status: 429, detail: 'my-app already has 5 one-off commands running' }));
        socket.close(4429);
      });
    });
    const terminal = fakeTerminal();
    const failed = await runOnTerminal(terminal.io, profile(failingUrl), 'my-app', 'bash').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ApiError);
    expect((failed as ApiError).message).toBe('my-app already has 5 one-off commands running');
    expect(terminal.rawModes).toEqual([true, false]);
    await new Promise((resolve) => server!.close(resolve));

    const droppingUrl = await endpoint((socket) => socket.once('message', () => socket.terminate()));
    const dropped = await runOnTerminal(fakeTerminal().io, profile(droppingUrl), 'my-app', 'bash').catch((error: unknown) => error);
    expect(String(dropped)).toMatch(/connection to the controller was lost/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
