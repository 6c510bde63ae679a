/**
 * A whole platform instance for end-to-end tests: `dist/platform.js run` on free loopback ports, with its own data
 * directory, Docker network and platform name, so that it never meets another instance on the same engine.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pollRouter } from './http.ts';
import { runProgram } from './processes.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export interface PlatformInstance {
  name: string;
  dataDir: string;
  domain: string;
  controllerUrl: string;
  routerPort: number;
  routerHttpsPort: number;
  sshPort: number;
  builderHttpPort: number;
  controllerPort: number;
  /** What the platform process printed, for diagnosing a failed test. */
  output(): string;
  stop(): Promise<void>;
  /** Stops the platform process (SIGTERM) and starts it again on the same data, name and ports; apps keep running. */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Removes every container, build cache volume and the network of an instance: the platform leaves apps running when
 * it stops.
 */
export async function removeInstanceResources(name: string): Promise<void> {
  const listed = await runProgram('docker', ['ps', '-aq', '--filter', `label=io.deis.platform=${name}`]);
  const ids = listed.stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await runProgram('docker', ['rm', '-f', ...ids]);
  const volumes = (await runProgram('docker', ['volume', 'ls', '-q', '--filter', `label=io.deis.platform=${name}`])).stdout.split('\n').filter(Boolean);
  if (volumes.length > 0) await runProgram('docker', ['volume', 'rm', '-f', ...volumes]);
  await runProgram('docker', ['network', 'rm', name]);
}

/**
 * Starts an instance; `extraEnv` adds or overrides platform settings, `entry` runs another build of the platform (a
 * benchmark's baseline checkout).
 */
export async function startPlatform(extraEnv: Record<string, string> = {}, entry = join(REPO_ROOT, 'dist/platform.js')): Promise<PlatformInstance> {
  const name = `e2e-${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), `deis-${name}-`));
  const [controllerPort, routerPort, routerHttpsPort, sshPort, builderHttpPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  // A /24 of its own inside 100.64.0.0/10, away from the default platform's 100.64.0.0/16.
  const subnet = `100.${66 + (randomBytes(1)[0]! % 30)}.${randomBytes(1)[0]}.0/24`;
  const env = {
    ...process.env,
    DEIS_DATA_DIR: dataDir,
    DEIS_PLATFORM_NAME: name,
    DEIS_PLATFORM_DOMAIN: 'localhost',
    DEIS_CONTROLLER_PORT: String(controllerPort),
    DEIS_ROUTER_HTTP_PORT: String(routerPort),
    DEIS_ROUTER_HTTPS_PORT: String(routerHttpsPort),
    DEIS_BUILDER_SSH_PORT: String(sshPort),
    DEIS_BUILDER_HTTP_PORT: String(builderHttpPort),
    DEIS_NETWORK: name,
    DEIS_NETWORK_SUBNET: subnet,
    DEIS_MANAGE_HOSTS_FILE: '0',
    DEIS_DEPLOY_TIMEOUT: '30',
    KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '2',
    ...extraEnv,
  };
  let output = '';
  const launch = () => {
    const started: ChildProcess = spawn(process.execPath, [entry, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return { child: started, exited: new Promise<void>((r) => started.once('exit', () => r())) };
  };
  let running = launch();
  const stopProcess = async () => {
    const { child, exited } = running;
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };

  const stop = async () => {
    await stopProcess();
    await removeInstanceResources(name);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const restart = async () => {
    await stopProcess();
    running = launch();
    const again = await pollRouter(routerPort, 'deis.localhost', (r) => r.status === 200, { path: '/healthz', timeoutMs: 90_000 });
    if (again.status !== 200) throw new Error(`the platform did not come back (last answer ${again.status} ${again.body}):\n${output}`);
  };

  const health = await pollRouter(routerPort, 'deis.localhost', (r) => r.status === 200, { path: '/healthz', timeoutMs: 90_000 });
  if (health.status !== 200) {
    await stop();
    throw new Error(`the platform did not come up (last answer ${health.status} ${health.body}):\n${output}`);
  }
  return {
    name,
    dataDir,
    domain: 'localhost',
    controllerUrl: `http://deis.localhost:${routerPort}`,
    routerPort,
    routerHttpsPort,
    sshPort,
    builderHttpPort,
    controllerPort,
    output: () => output,
    stop,
    restart,
  };
}
