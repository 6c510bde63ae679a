/**
 * The builder's end of the pre-receive hook: a unix socket in the data directory. A hook presents its push's id (known
 * only to the git process the builder started), the refs, and its git environment; the builder answers with output
 * lines and finally an exit code, as newline-delimited JSON (`{"out": "…"}`, `{"exit": N}`).
 * @module
 */
import { chmod, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import type { PushedCommit } from './git-objects.ts';
import { QUARANTINE_ENV } from './pre-receive-script.ts';
import { parseRefUpdates, updateToBuild } from './ref-updates.ts';
import type { PushSession, PushSessions } from './push-sessions.ts';

export interface HookSocketOptions {
  socketPath: string;
  sessions: PushSessions;
  repositoryPath: (app: string) => string;
  /** Builds and releases one pushed commit; a throw rejects the push with the error's message. */
  build: (session: PushSession, commit: PushedCommit, out: (line: string) => void) => Promise<void>;
}

interface HookRequest {
  push: string;
  refs: string;
  gitEnv: Record<string, string>;
}

const MAX_REQUEST = 1024 * 1024;

function parseRequest(text: string): HookRequest | null {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value.push !== 'string' || typeof value.refs !== 'string') return null;
    const gitEnv: Record<string, string> = {};
    const given = (value.gitEnv ?? {}) as Record<string, unknown>;
    for (const name of QUARANTINE_ENV) if (typeof given[name] === 'string') gitEnv[name] = given[name];
    return { push: value.push, refs: value.refs, gitEnv };
  } catch {
    return null;
  }
}

function serve(socket: Socket, options: HookSocketOptions): void {
  let buffered = '';
  let started = false;
  const send = (message: { out: string } | { exit: number }): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  };
  const out = (line: string): void => send({ out: `${line}\n` });
  const finish = (code: number): void => {
    send({ exit: code });
    socket.end();
  };
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    if (started) return;
    buffered += chunk;
    const end = buffered.indexOf('\n');
    if (end < 0) {
      if (buffered.length > MAX_REQUEST) socket.destroy();
      return;
    }
    started = true;
    const request = parseRequest(buffered.slice(0, end));
    const session = request ? options.sessions.find(request.push) : undefined;
    if (!request || !session) {
      out('This push is not known to the builder.');
      finish(1);
      return;
    }
    const update = updateToBuild(parseRefUpdates(request.refs));
    if (!update) {
      finish(0);
      return;
    }
    // A hook that goes away (the pusher hung up and git was killed) stops the build it asked for.
    socket.on('close', () => session.abort());
    const commit: PushedCommit = { repositoryPath: options.repositoryPath(session.app), sha: update.newSha, gitEnv: request.gitEnv };
    const build = options.build(session, commit, out).then(
      () => finish(0),
      (error: unknown) => {
        out(error instanceof Error ? error.message : String(error));
        finish(1);
      },
    );
    session.track(build);
  });
}

export interface HookSocket {
  close(): Promise<void>;
}

export async function startHookSocket(options: HookSocketOptions): Promise<HookSocket> {
  // A socket file left by a builder that died stops a new one from listening.
  await rm(options.socketPath, { force: true });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(options.socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // On shutdown a hook still waiting is told no: its push is rejected rather than left hanging.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
