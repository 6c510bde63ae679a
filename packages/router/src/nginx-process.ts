/**
 * nginx as a child process: started in the foreground (`daemon off`) so it lives and dies with the router, checked
 * with `nginx -t` before any reload, reloaded gracefully with SIGHUP (old workers finish their requests), stopped with
 * SIGQUIT (graceful) and, if that takes too long, SIGTERM then SIGKILL. It may run in another network namespace
 * (the edge sandbox's, ADR 0020), entered through nsenter.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

export const DEFAULT_NGINX_PATH = '/usr/sbin/nginx';
/** util-linux's, on every Debian system. */
const NSENTER_PATH = 'nsenter';

export class NginxError extends Error {
  /** What nginx printed, for the operator. */
  readonly output: string;

  constructor(message: string, output: string) {
    super(output ? `${message}: ${output}` : message);
    this.name = 'NginxError';
    this.output = output;
  }
}

/** `nginx -t` refused a configuration: trying the same one again would fail the same way. */
export class NginxConfigRefused extends NginxError {
  constructor(message: string, output: string) {
    super(message, output);
    this.name = 'NginxConfigRefused';
  }
}

export interface NginxLocation {
  nginxPath?: string;
  /** nginx's prefix (`-p`); relative paths in the configuration are under it. */
  prefix: string;
  configPath: string;
}

function baseArguments(location: NginxLocation): string[] {
  // `-e stderr`: messages from before the configuration is read (and from `-t`) come to us, not to a system log path.
  return ['-p', location.prefix, '-c', location.configPath, '-e', 'stderr'];
}

/** Keeps the last lines a process printed, so errors can quote them. */
function tail(stream: NodeJS.ReadableStream | null, keep = 30): () => string {
  const lines: string[] = [];
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
    if (lines.length > keep) lines.splice(0, lines.length - keep);
  });
  return () => [...lines, partial].filter((l) => l.trim() !== '').join('\n').trim();
}

/** Runs `nginx -t` on a configuration; rejects with what nginx said when it would not load. */
export async function testNginxConfig(location: NginxLocation): Promise<void> {
  const child = spawn(location.nginxPath ?? DEFAULT_NGINX_PATH, ['-t', '-q', ...baseArguments(location)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const output = tail(child.stderr);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new NginxConfigRefused(`nginx rejected ${location.configPath}`, output());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
}

/**
 * An nginx left running by a router that died without stopping it still holds the ports; it is ours if its pid file
 * is in our data and its command line names our configuration, and then it is stopped before a new one starts.
 */
async function stopLeftover(pidFile: string, configPath: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  let commandLine = '';
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!commandLine.includes('nginx') || !commandLine.includes(configPath)) return;
  process.kill(pid, 'SIGQUIT');
  if (await waitUntil(() => !alive(pid), 5000, 20)) return;
  process.kill(pid, 'SIGKILL');
  await waitUntil(() => !alive(pid), 2000, 20);
}

export interface NginxProcessOptions extends NginxLocation {
  /** The pid file the configuration names; nginx writes it once its ports are bound. */
  pidFile: string;
  /** Files of an earlier nginx, such as unix sockets, removed once it is gone (a leftover socket file blocks `listen`). */
  staleFiles?: string[];
  /** Called when nginx exits without being asked to. */
  onExit?: (error: NginxError) => void;
  startTimeoutMs?: number;
  /**
   * Run nginx in this network namespace (a path such as a container's SandboxKey) by way of `nsenter --net`, which
   * enters it and then executes nginx itself: the child's pid is nginx's, so signals, the pid file and `nginx -s`
   * work as without it. Absent: the router's own namespace.
   */
  netns?: string;
}

export class NginxProcess {
  readonly #child: ChildProcess;
  readonly #output: () => string;
  readonly #exited: Promise<void>;
  #stopping = false;

  private constructor(child: ChildProcess, output: () => string, exited: Promise<void>) {
    this.#child = child;
    this.#output = output;
    this.#exited = exited;
  }

  /** Starts nginx on a configuration (test it first) and resolves once its ports are bound. */
  static async start(options: NginxProcessOptions): Promise<NginxProcess> {
    await stopLeftover(options.pidFile, options.configPath);
    for (const file of [options.pidFile, ...(options.staleFiles ?? [])]) rmSync(file, { force: true });
    const nginxArguments = [...baseArguments(options), '-g', 'daemon off;'];
    const nginxPath = options.nginxPath ?? DEFAULT_NGINX_PATH;
    const [command, args] = options.netns ? [NSENTER_PATH, [`--net=${options.netns}`, '--', nginxPath, ...nginxArguments]] : [nginxPath, nginxArguments];
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const output = tail(child.stderr);
    let exitedEarly: NginxError | null = null;
    let process_: NginxProcess | null = null;
    const exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        exitedEarly = new NginxError(`nginx could not start (${error.message})`, '');
        resolve();
      });
      child.once('close', (code, signal) => {
        const error = new NginxError(`nginx exited with ${signal ?? `code ${code}`}`, output());
        exitedEarly ??= error;
        if (process_ && !process_.#stopping) options.onExit?.(error);
        resolve();
      });
    });
    process_ = new NginxProcess(child, output, exited);
    const pidWritten = () => {
      try {
        return Number(readFileSync(options.pidFile, 'utf8').trim()) === child.pid;
      } catch {
        return false;
      }
    };
    const started = await waitUntil(() => exitedEarly !== null || pidWritten(), options.startTimeoutMs ?? 10_000);
    if (exitedEarly) throw exitedEarly;
    if (!started) {
      await process_.stop();
      throw new NginxError('nginx did not start in time', output());
    }
    return process_;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What nginx printed last (warnings, errors). */
  output(): string {
    return this.#output();
  }

  /** The master's children: its workers (and old workers still finishing their requests). */
  workerPids(): number[] {
    const master = this.#child.pid;
    if (master === undefined) return [];
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // The command name in (…) may hold spaces; the parent pid is the second field after it.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (parent === master) pids.push(Number(entry));
      } catch {
        // The process ended while we looked.
      }
    }
    return pids;
  }

  /**
   * Graceful reload: nginx rereads the configuration file, starts new workers, and tells the old ones to finish their
   * requests and quit. Resolves once every old worker has stopped accepting connections, so from then on every new
   * connection gets the new configuration. Rejects if nginx did not switch (it keeps the old configuration when it
   * cannot load the new one).
   */
  async reload(timeoutMs = 15_000): Promise<void> {
    if (!this.running) throw new NginxError('nginx is not running', this.#output());
    const oldWorkers = this.workerPids();
    this.#child.kill('SIGHUP');
    // An old worker renames itself "worker process is shutting down" as it closes its listening sockets.
    const stoppedAccepting = (pid: number) => {
      try {
        const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        // Empty: it has exited and waits to be reaped.
        return commandLine === '' || commandLine.includes('shutting down');
      } catch {
        return true;
      }
    };
    const switched = await waitUntil(() => !this.running || oldWorkers.every(stoppedAccepting), timeoutMs, 5);
    if (!this.running) throw new NginxError('nginx exited during a reload', this.#output());
    if (!switched) throw new NginxError(`nginx did not switch to the new configuration within ${timeoutMs} ms`, this.#output());
  }

  /** Graceful stop, then fast, then forced, each after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    if (!this.running) return this.#exited;
    const exitedWithin = (ms: number) => Promise.race([this.#exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
    this.#child.kill('SIGQUIT');
    if (await exitedWithin(graceMs)) return;
    this.#child.kill('SIGTERM');
    if (await exitedWithin(2000)) return;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
