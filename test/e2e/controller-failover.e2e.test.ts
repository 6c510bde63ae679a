/**
 * A controller killed during a deploy (ADR 0021): two `platform.js controller` on one PostgreSQL, a router and a
 * builder each given both controllers (DEIS_CONTROLLER_URL with commas, the one to be killed first). A push whose
 * release phase is running when that controller is killed completes: the builder sends its hook to the other, which
 * finishes the same release (no second one), the router follows the other's table, and the app answers every request
 * meanwhile, first from the previous release, then from the new one.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo, sshCommand } from './drivers/git.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { freePort, REPO_ROOT, removeInstanceResources } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';

const postgresUrl = process.env.DEIS_TEST_POSTGRES_URL;

interface RoleProcess {
  name: string;
  child: ChildProcess;
  output(): string;
}

const name = `e2e-${randomBytes(3).toString('hex')}`;
const schema = `t_${randomBytes(6).toString('hex')}`;
const roles: RoleProcess[] = [];
const dataDirs: string[] = [];
let ports: Record<'controller1' | 'controller2' | 'router' | 'routerHttps' | 'ssh' | 'builderHttp', number>;
let user: CliUser;
let store: pg.Client;

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

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

describe.skipIf(!postgresUrl)('a controller killed during a deploy', () => {
  let controller1: RoleProcess;
  let controller2: RoleProcess;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const databaseUrl = new URL(postgresUrl!);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
    store = new pg.Client({ connectionString: databaseUrl.toString() });
    await store.connect();
    const [controllerPort1, controllerPort2, router, routerHttps, ssh, builderHttp] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    ports = { controller1: controllerPort1!, controller2: controllerPort2!, router: router!, routerHttps: routerHttps!, ssh: ssh!, builderHttp: builderHttp! };
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
    controller1 = startRole('controller', 'controller1', { ...controllerEnv, DEIS_CONTROLLER_PORT: String(ports.controller1) });
    await until('controller 1 answering', () => answers(`http://127.0.0.1:${ports.controller1}/healthz`), 60_000);
    controller2 = startRole('controller', 'controller2', { ...controllerEnv, DEIS_CONTROLLER_PORT: String(ports.controller2) });
    await until('controller 2 answering', () => answers(`http://127.0.0.1:${ports.controller2}/healthz`), 60_000);
    // Both go to controller 2 first: the one this test kills.
    const both = `http://127.0.0.1:${ports.controller2},http://127.0.0.1:${ports.controller1}`;
    startRole('router', 'router', { ...common, DEIS_CONTROLLER_URL: both });
    startRole('builder', 'builder', { ...common, DEIS_CONTROLLER_URL: both });
    const health = await pollRouter(ports.router, 'deis.localhost', (r) => r.status === 200, { path: '/healthz', timeoutMs: 60_000 });
    if (health.status !== 200) throw new Error(`the router did not come up\n${outputs()}`);
    user = newCliUser();
  });

  afterAll(async () => {
    for (const role of roles) if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGTERM');
    await Promise.all(roles.map((role) => (role.child.exitCode === null && role.child.signalCode === null ? new Promise((resolve) => role.child.once('exit', resolve)) : undefined)));
    await removeInstanceResources(name);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await store?.end();
    if (postgresUrl) {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('completes the push through the other controller, one release, with no failed request', async () => {
    const keyPath = join(user.home, '.ssh', 'id_ed25519');
    mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
    expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', keyPath]));
    user.env.GIT_SSH_COMMAND = sshCommand(keyPath, ports.ssh);
    const repo = await sampleAppRepo('node-hello', user.env);
    expectOk(await user.deis(['register', `http://deis.localhost:${ports.router}`, '--username=ada', '--password=correct-horse-battery', '--email=ada@example.test']));
    expectOk(await user.deis(['keys:add', `${keyPath}.pub`]));
    expectOk(await user.deis(['create', 'failover'], { cwd: repo.dir }));
    expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${ports.ssh}/failover.git`]));
    expectOk(await repo.git(['push', 'deis', 'main']));
    expect((await pollRouter(ports.router, 'failover.localhost', (r) => r.status === 200, { timeoutMs: 20_000 })).body).toContain('Release v2');

    // Requests all along, one after another.
    const failures: string[] = [];
    let served = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        try {
          const answer = await viaRouter(ports.router, 'failover.localhost', '/', { timeoutMs: 10_000 });
          if (answer.status === 200) served++;
          else failures.push(`${answer.status} ${answer.body.slice(0, 200)}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();

    // The next push has a release phase long enough to kill its controller during it.
    await repo.commitFile('Procfile', 'web: node /app/server.js\nrelease: sleep 6\n', 'a release phase');
    const pushing = repo.git(['push', 'deis', 'main']);
    await until('v3 deploying', async () => (await store.query("SELECT 1 FROM releases WHERE version = 3 AND deploying = 1")).rowCount === 1, 120_000);
    controller2.child.kill('SIGKILL');
    const killedAt = Date.now();
    const pushed = expectOk(await pushing);
    expect(pushed.stdout + pushed.stderr).toContain('Done, failover:v3 deployed to Workflow');
    // The release phase again (6 s) and the rollout; not the 15 s a rollout waits at most for a router: the dead
    // controller's routers are not waited for, the router now polling the living one confirms.
    expect(Date.now() - killedAt).toBeLessThan(14_000);

    const after = await pollRouter(ports.router, 'failover.localhost', (r) => r.body.includes('Release v3'), { timeoutMs: 30_000 });
    expect(after.body, outputs()).toContain('Release v3');
    loading = false;
    await load;
    expect(failures, outputs()).toEqual([]);
    expect(served).toBeGreaterThan(10);
    const { rows } = await store.query<{ version: number; failed: number }>("SELECT version, failed FROM releases r JOIN apps a ON a.uuid = r.app_uuid WHERE a.id = 'failover' ORDER BY version");
    expect(rows.map((r) => [r.version, r.failed])).toEqual([[1, 0], [2, 0], [3, 0]]);
    // The one left leads (it started first, so it led all along).
    expect(controller1.output()).toContain('platform: leading:');
  });
});
