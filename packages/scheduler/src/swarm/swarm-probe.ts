/**
 * Readiness and liveness probes of tasks on a Swarm overlay network. A task's address lives on the overlay, which only
 * containers attached to it reach (not the host the platform runs on), so TCP and HTTP checks are made from a small
 * probe container on the manager, attached to the platform's network. One long-lived Node process in it (a `Prober`,
 * talking JSON lines over one exec's stdin and stdout) makes every check: an exec of Node per check costs a process
 * start each time, which a monitor probing every container on a period cannot afford. Exec checks run in the task's
 * own container through its node's engine (`execIn`).
 * @module
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { createFrameParser } from '../docker/log-frames.ts';

/**
 * The prober: one request a line on stdin (`{id, kind, host, port, timeout, path?, headers?}`), one answer a line on
 * stdout (`{id, why}`, why null when the check passed), checks running at once; exits when stdin ends.
 */
const PROBER_SCRIPT = `'use strict';
const net = require('node:net');
const http = require('node:http');
const answer = (id, why) => process.stdout.write(JSON.stringify({ id, why }) + '\\n');
function check(r) {
  const what = r.kind === 'tcp' ? 'TCP connect to port ' + r.port : 'HTTP GET ' + r.path + ' on port ' + r.port;
  let done = false;
  let cleanup = () => {};
  const finish = (why) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    cleanup();
    answer(r.id, why);
  };
  const timer = setTimeout(() => finish(what + ' timed out'), r.timeout);
  try {
    if (r.kind === 'tcp') {
      const socket = net.connect({ host: r.host, port: r.port });
      cleanup = () => socket.destroy();
      socket.once('connect', () => finish(null));
      socket.once('error', (e) => finish(what + ': ' + (e.code || e.message)));
    } else {
      const req = http.request({ host: r.host, port: r.port, path: r.path, headers: { ...r.headers, connection: 'close' }, agent: false }, (res) => {
        res.resume();
        const status = res.statusCode || 0;
        finish(status >= 200 && status < 400 ? null : what + ' answered ' + status);
      });
      cleanup = () => req.destroy();
      req.once('error', (e) => finish(what + ': ' + (e.code || e.message)));
      req.end();
    }
  } catch (e) {
    finish(what + ': ' + e.message);
  }
}
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      continue;
    }
    check(request);
  }
});
process.stdin.on('end', () => process.exit(0));
`;

export type NetworkCheck = { kind: 'tcp'; host: string; port: number } | { kind: 'http'; host: string; port: number; path: string; headers: Record<string, string> };

interface Session {
  stream: Duplex;
  waiting: Map<number, (why: string | null) => void>;
}

/** TCP and HTTP checks through one prober process, started in a container (given by `target`) on first use and again after it ended. */
export class Prober {
  readonly #target: () => Promise<{ docker: Docker; containerId: string }>;
  #session: Promise<Session> | undefined;
  #nextId = 0;

  constructor(target: () => Promise<{ docker: Docker; containerId: string }>) {
    this.#target = target;
  }

  /** Null when the check passed, otherwise why not; never longer than about `timeoutMs`. */
  async check(check: NetworkCheck, timeoutMs: number): Promise<string | null> {
    const session = await this.#open();
    const id = (this.#nextId += 1);
    return new Promise((resolve) => {
      // The prober's own timer answers first; this one covers a prober that hangs.
      const timer = setTimeout(() => settle(`${check.kind} check: the prober did not answer within ${timeoutMs} ms`), timeoutMs + 2_000);
      const settle = (why: string | null) => {
        clearTimeout(timer);
        session.waiting.delete(id);
        resolve(why);
      };
      session.waiting.set(id, settle);
      session.stream.write(`${JSON.stringify({ id, ...check, timeout: timeoutMs })}\n`);
    });
  }

  /** Ends the prober process; checks waiting for it are answered with why not. */
  close(): void {
    const session = this.#session;
    this.#session = undefined;
    void session?.then((s) => s.stream.destroy()).catch(() => undefined);
  }

  #open(): Promise<Session> {
    if (this.#session) return this.#session;
    const opened: Promise<Session> = (async () => {
      const { docker, containerId } = await this.#target();
      const exec = await docker.getContainer(containerId).exec({ Cmd: ['node', '-e', PROBER_SCRIPT], AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
      const session: Session = { stream, waiting: new Map() };
      let pending = '';
      stream.on(
        'data',
        createFrameParser((name, payload) => {
          if (name !== 'stdout') return;
          pending += payload.toString('utf8');
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            try {
              const { id, why } = JSON.parse(line) as { id: number; why: string | null };
              session.waiting.get(id)?.(why);
            } catch {
              // Not an answer: nothing waits for it.
            }
          }
        }),
      );
      const ended = () => {
        if (this.#session === opened) this.#session = undefined;
        for (const settle of [...session.waiting.values()]) settle('the prober ended before it answered');
      };
      stream.once('end', ended);
      stream.once('close', ended);
      stream.once('error', ended);
      return session;
    })();
    this.#session = opened;
    opened.catch(() => {
      if (this.#session === opened) this.#session = undefined;
    });
    return opened;
  }
}

/**
 * Runs `command` in a container and resolves with null when it exits 0, otherwise with why not (its output, or its
 * exit code); the container's own engine must be the one given.
 */
export async function execIn(docker: Docker, containerId: string, command: string[], timeoutMs: number): Promise<string | null> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let output = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => {
        // Frames: an 8-byte header before each payload; the text is only for the user, so headers are cut roughly.
        stream.on('data', (chunk: Buffer) => (output += chunk.subarray(chunk.length > 8 && chunk[0]! <= 2 ? 8 : 0).toString('utf8')));
        stream.once('end', () => resolve(true));
        stream.once('close', () => resolve(true));
        stream.once('error', () => resolve(true));
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs + 2_000);
      }),
    ]);
    if (!ended) return `${command[0]} did not finish within ${timeoutMs} ms`;
    // The stream can end a moment before the engine records the exit code.
    for (let attempt = 0; attempt < 40; attempt++) {
      const result = await exec.inspect();
      if (!result.Running && result.ExitCode !== null) {
        if (result.ExitCode === 0) return null;
        return output.trim() || `${command.join(' ')} exited with code ${result.ExitCode}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return `${command.join(' ')} did not report an exit code`;
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}
