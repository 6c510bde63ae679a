/**
 * The roles as separate processes on one PostgreSQL (ADR 0016), for the end-to-end tests of several controllers: two
 * `platform.js controller` on a schema of their own in the test's PostgreSQL, a `platform.js router` and a
 * `platform.js builder`, each with a data directory of its own, on free loopback ports, with the shared secrets given
 * in the environment. The test says which controllers the router and the builder are given; the rest is the same for
 * every such test.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pollRouter } from './http.ts';
import { freePort, REPO_ROOT, removeInstanceResources } from './platform.ts';
import type { Completed } from './processes.ts';

export interface RoleProcess {
  name: string;
  child: ChildProcess;
  /** What the process printed so far. */
  output(): string;
}

export interface RolePorts {
  controller1: number;
  controller2: number;
  router: number;
  routerHttps: number;
  ssh: number;
  builderHttp: number;
}

/** The DEIS_CONTROLLER_URL of the router and of the builder, given each controller's URL. */
export type ControllersOfRoles = (urls: { controller1: string; controller2: string }) => { router: string; builder: string };

export interface SeparateRoles {
  ports: RolePorts;
  /** The controllers' store: the test's PostgreSQL with the search path on the instance's schema. */
  databaseUrl: string;
  controller1: RoleProcess;
  controller2: RoleProcess;
  /** The end of every role's output, for the message of a failed test. */
  outputs(): string;
  /** The result of a program that exited 0; otherwise throws with its output and the roles'. */
  expectOk(result: Completed): Completed;
  /** Polls `check` until it holds; throws with the roles' output when it still does not after `timeoutMs`. */
  until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void>;
  /** Stops the roles still running and removes the instance's containers, network, data directories and schema. */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

async function onStore<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts the four roles and waits for the router's health check; what it started is stopped again when it fails.
 * `postgresUrl` is the test's PostgreSQL (DEIS_TEST_POSTGRES_URL).
 */
export async function startSeparateRoles(postgresUrl: string, controllersOf: ControllersOfRoles): Promise<SeparateRoles> {
  const name = `e2e-${randomBytes(3).toString('hex')}`;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const roles: RoleProcess[] = [];
  const dataDirs: string[] = [];

  function startRole(role: string, label: string, env: Record<string, string>): RoleProcess {
    const dataDir = mkdtempSync(join(tmpdir(), `deis-${name}-${label}-`));
    dataDirs.push(dataDir);
    let output = '';
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/platform.js'), role], { env: { ...process.env, ...env, DEIS_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = { name: label, child, output: () => output };
    roles.push(started);
    return started;
  }

  function outputs(): string {
    return roles.map((r) => `--- ${r.name}:\n${r.output().slice(-3000)}`).join('\n');
  }

  function expectOk(result: Completed): Completed {
    if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\n${outputs()}`);
    return result;
  }

  async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what} did not happen within ${timeoutMs} ms\n${outputs()}`);
  }

  async function stop(): Promise<void> {
    const running = roles.filter((role) => role.child.exitCode === null && role.child.signalCode === null);
    const exited = running.map((role) => new Promise((resolve) => role.child.once('exit', resolve)));
    for (const role of running) role.child.kill('SIGTERM');
    await Promise.all(exited);
    await removeInstanceResources(name);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await onStore(postgresUrl, (admin) => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }

  try {
    await onStore(postgresUrl, (admin) => admin.query(`CREATE SCHEMA ${schema}`));
    const databaseUrl = new URL(postgresUrl);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
    const [controller1Port, controller2Port, router, routerHttps, ssh, builderHttp] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    const ports: RolePorts = { controller1: controller1Port!, controller2: controller2Port!, router: router!, routerHttps: routerHttps!, ssh: ssh!, builderHttp: builderHttp! };
    const common = {
      DEIS_PLATFORM_NAME: name,
      DEIS_PLATFORM_DOMAIN: 'localhost',
      DEIS_NETWORK: name,
      DEIS_NETWORK_SUBNET: `100.${66 + (randomBytes(1)[0]! % 30)}.${randomBytes(1)[0]}.0/24`,
      DEIS_MANAGE_HOSTS_FILE: '0',
      DEIS_DEPLOY_TIMEOUT: '30',
      KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '2',
      DEIS_BUILDER_KEY: randomBytes(32).toString('hex'),
      DEIS_CONTAINER_KEY: randomBytes(32).toString('hex'),
      DEIS_ROUTER_HTTP_PORT: String(ports.router),
      DEIS_ROUTER_HTTPS_PORT: String(ports.routerHttps),
      DEIS_BUILDER_SSH_PORT: String(ports.ssh),
      DEIS_BUILDER_HTTP_PORT: String(ports.builderHttp),
    };
    const controllerEnv = { ...common, DATABASE_URL: databaseUrl.toString(), DEIS_BUILDER_HTTP_UPSTREAM: `127.0.0.1:${ports.builderHttp}` };
    const controller1 = startRole('controller', 'controller1', { ...controllerEnv, DEIS_CONTROLLER_PORT: String(ports.controller1) });
    // One at a time: each makes sure the engine has the platform's network.
    await until('controller 1 answering', () => answers(`http://127.0.0.1:${ports.controller1}/healthz`), 60_000);
    const controller2 = startRole('controller', 'controller2', { ...controllerEnv, DEIS_CONTROLLER_PORT: String(ports.controller2) });
    await until('controller 2 answering', () => answers(`http://127.0.0.1:${ports.controller2}/healthz`), 60_000);
    const controllers = controllersOf({ controller1: `http://127.0.0.1:${ports.controller1}`, controller2: `http://127.0.0.1:${ports.controller2}` });
    startRole('router', 'router', { ...common, DEIS_CONTROLLER_URL: controllers.router });
    startRole('builder', 'builder', { ...common, DEIS_CONTROLLER_URL: controllers.builder });
    const health = await pollRouter(ports.router, 'deis.localhost', (r) => r.status === 200, { path: '/healthz', timeoutMs: 60_000 });
    if (health.status !== 200) throw new Error(`the router did not come up\n${outputs()}`);
    return { ports, databaseUrl: databaseUrl.toString(), controller1, controller2, outputs, expectOk, until, stop };
  } catch (error) {
    // Why it did not start is what the test must report, not a failure of the clean-up after it.
    await stop().catch(() => undefined);
    throw error;
  }
}
