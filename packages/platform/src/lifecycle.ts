/**
 * `up`, `down` and `status`: the platform as a background process with a pid file and a log in its data directory
 * (ADR 0005). `up` is idempotent: when the platform already answers, it only prints where.
 * @module
 */
import { spawn } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ensureBuildpackStacks } from '@deis/builder/buildpack-stacks';
import { engineClient } from '@deis/scheduler/create-scheduler';
import { loadEngineSettings } from './engine-settings.ts';
import { ensurePlatformHosts } from './hosts-file.ts';
import type { PlatformSettings } from './platform-settings.ts';

const pidFile = (settings: PlatformSettings) => join(settings.dataDir, 'platform.pid');
const logFile = (settings: PlatformSettings) => join(settings.dataDir, 'platform.log');

export const controllerHost = (settings: PlatformSettings) => `deis.${settings.platformDomain}`;
export const builderHost = (settings: PlatformSettings) => `deis-builder.${settings.platformDomain}`;

function runningPid(settings: PlatformSettings): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(settings), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** The status of the controller's health check through the router, asked of 127.0.0.1 with the platform's host name. */
export function routerHealth(settings: PlatformSettings, timeoutMs = 2_000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: settings.routerHttpPort, path: '/healthz', headers: { host: controllerHost(settings) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? null);
      },
    );
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function urlOf(settings: PlatformSettings): string {
  return `http://${controllerHost(settings)}${settings.routerHttpPort === 80 ? '' : `:${settings.routerHttpPort}`}`;
}

function nextSteps(settings: PlatformSettings): string {
  const url = urlOf(settings);
  return [
    '',
    `The platform is up (data in ${settings.dataDir}, log in ${logFile(settings)}).`,
    '',
    `  controller  ${url}  (also http://127.0.0.1:${settings.controllerPort})`,
    `  builder     ssh://git@${builderHost(settings)}:${settings.builderSshPort}  and  http://${builderHost(settings)}${settings.routerHttpPort === 80 ? '' : `:${settings.routerHttpPort}`}`,
    `  apps        http://<app>.${settings.platformDomain}${settings.routerHttpPort === 80 ? '' : `:${settings.routerHttpPort}`}`,
    '',
    'Next steps:',
    `  deis register ${url}          # the first user becomes the administrator (only from this host)`,
    '  deis keys:add                 # upload your SSH public key',
    '  cd your-app && deis create    # adds the `deis` git remote',
    '  git push deis main            # build, release, and serve it',
    '',
    'Stop it with `./platform down`.',
    '',
  ].join('\n');
}

/**
 * Makes the built CLI available as `deis` (by default in /usr/local/bin) when this user may write there. A `deis`
 * that is not a link (the Go CLI, say) is left alone.
 */
function installCli(repoRoot: string, link: string, print: (line: string) => void): void {
  const target = join(repoRoot, 'dist', 'deis.js');
  try {
    const existing = lstatSync(link, { throwIfNoEntry: false });
    if (existing && !existing.isSymbolicLink()) {
      print(`(${link} is another program; this platform's CLI is: node ${target})`);
      return;
    }
    if (existing) unlinkSync(link);
    symlinkSync(target, link);
  } catch {
    print(`(could not link ${link}; run the CLI as: node ${target})`);
  }
}

export async function platformUp(settings: PlatformSettings, repoRoot: string, print: (line: string) => void): Promise<void> {
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  if (settings.manageHostsFile) {
    try {
      ensurePlatformHosts([controllerHost(settings), builderHost(settings)]);
    } catch (error) {
      print(`(could not update /etc/hosts: ${(error as Error).message}; add "127.0.0.1 ${controllerHost(settings)} ${builderHost(settings)}" yourself)`);
    }
  }
  if (settings.cliLink) installCli(repoRoot, settings.cliLink, print);

  const running = runningPid(settings);
  if (running !== null && (await routerHealth(settings)) === 200) {
    print(`The platform is already running (pid ${running}).`);
    print(nextSteps(settings));
    return;
  }
  if (running !== null) throw new Error(`a platform process (pid ${running}) runs but does not answer; see ${logFile(settings)}, or run ./platform down first`);

  await makeStacks(settings, print);

  const log = openSync(logFile(settings), 'a');
  // The supervisor, which starts the platform and starts it again if it dies (supervisor.ts); the pid file is its.
  const child = spawn(process.execPath, ['--enable-source-maps', join(repoRoot, 'dist', 'platform.js'), 'supervise'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  writeFileSync(pidFile(settings), `${child.pid}\n`);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();

  print('Starting the platform (the first start builds the base images, about a minute)...');
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the platform exited with code ${exited}; the end of ${logFile(settings)}:\n${tail(logFile(settings), 20)}`);
    if ((await routerHealth(settings)) === 200) {
      print(nextSteps(settings));
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the platform did not answer within 3 minutes; see ${logFile(settings)}`);
}

/**
 * The buildpack stacks, made (or pulled) before the platform starts so that the first buildpack push does not wait
 * for them. A failure does not stop `up`: Dockerfile apps need no stack, and each buildpack push tries again.
 */
async function makeStacks(settings: PlatformSettings, print: (line: string) => void): Promise<void> {
  try {
    // On the engine the builder builds on (the swarm manager's on a swarm), where the builds will look for them.
    const docker = engineClient(loadEngineSettings().builderEngine);
    await ensureBuildpackStacks({ docker, ...(settings.stackPull ? { pull: settings.stackPull } : {}), onProgress: (line) => print(`==> ${line}`) });
  } catch (error) {
    print(`(could not make the buildpack stacks, so buildpack pushes will try again: ${(error as Error).message})`);
  }
}

export async function platformDown(settings: PlatformSettings, print: (line: string) => void): Promise<void> {
  const pid = runningPid(settings);
  if (pid === null) {
    print('The platform is not running.');
    rmSync(pidFile(settings), { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && runningPid(settings) !== null) await new Promise((r) => setTimeout(r, 200));
  if (runningPid(settings) !== null) process.kill(pid, 'SIGKILL');
  rmSync(pidFile(settings), { force: true });
  print('The platform has stopped. Apps keep running in their containers and are adopted again on the next `./platform up`.');
}

export async function platformStatus(settings: PlatformSettings, print: (line: string) => void): Promise<boolean> {
  const pid = runningPid(settings);
  if (pid === null) {
    print('The platform is not running.');
    return false;
  }
  const health = await routerHealth(settings);
  print(health === 200 ? `The platform is running (pid ${pid}) at ${urlOf(settings)}.` : `The platform process (pid ${pid}) runs but does not answer through the router (status ${health ?? 'none'}).`);
  return health === 200;
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
