/**
 * The platform on the swarm backend: `platform.js controller` with DEIS_SCHEDULER=swarm, run on this host (SQLite in a
 * temporary data directory) against the test cluster's engines. Through the API only, an app's build becomes Swarm
 * services on the cluster's nodes and a scale spreads them over more than one node.
 * @module
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_LABEL } from '@deis/scheduler/docker/docker-scheduler';
import { freePort, REPO_ROOT } from '../e2e/drivers/platform.ts';
import { clusterEngines } from './cluster.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);
const nodes = clusterEngines(sockets);
const manager = nodes[0]!;

const id = randomBytes(3).toString('hex');
const platformName = `swp-${id}`;
const image = `swp-app:${id}`;
const app = `swp-${id}`;
/** A node label of this file's own, put on node 2 and taken off after. */
const labelKey = `swp-zone-${id}`;
/** An app pushed with git to the builder role, and the commit pushed. */
const pushedApp = `swp-push-${id}`;
let pushedSha = '';

interface Task {
  NodeID: string;
  ServiceID: string;
  Status: { State: string };
  DesiredState: string;
}

let controller: ChildProcess | undefined;
let builder: ChildProcess | undefined;
let builderHttpPort = 0;
let output = '';
let baseUrl = '';
let token = '';
let dataDir = '';

/** A 2 MB image on the manager's engine that serves HTTP on $PORT (busybox httpd), built without the network. */
async function buildTinyImage(): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'swp-image-'));
  try {
    await writeFile(join(context, 'Dockerfile'), 'FROM deis/base:busybox\nRUN mkdir /www && echo swarm-platform > /www/index.html\nEXPOSE 5000\nCMD ["sh", "-c", "exec httpd -f -p $PORT -h /www"]\n');
    const stream = await manager.buildImage({ context, src: ['Dockerfile'] }, { t: image, rm: true, forcerm: true, pull: false });
    const events = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
      manager.modem.followProgress(stream, (error: Error | null, result: Array<{ error?: string }>) => (error ? reject(error) : resolve(result)));
    });
    const failure = events.find((event) => event.error);
    if (failure) throw new Error(`building ${image} failed: ${failure.error}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `token ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

async function expectStatus(method: string, path: string, status: number, body?: unknown): Promise<unknown> {
  const response = await api(method, path, body);
  if (response.status !== status) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}\n--- controller:\n${output.slice(-4000)}`);
  return response.body;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms\n--- controller:\n${output.slice(-4000)}`);
}

/** The running tasks of this platform's services for the app, with the hostname of the node each runs on. */
async function runningTasks(): Promise<Array<{ service: string; node: string }>> {
  const services = (await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`, `io.deis.app=${app}`] } })) as Array<{ ID: string; Spec: { Name: string } }>;
  const hostnames = new Map(((await manager.listNodes()) as Array<{ ID: string; Description: { Hostname: string } }>).map((node) => [node.ID, node.Description.Hostname]));
  const tasks = (await manager.listTasks({ filters: { 'desired-state': ['running'] } })) as Task[];
  const names = new Map(services.map((service) => [service.ID, service.Spec.Name]));
  return tasks.filter((task) => names.has(task.ServiceID) && task.Status.State === 'running').map((task) => ({ service: names.get(task.ServiceID)!, node: hostnames.get(task.NodeID) ?? task.NodeID }));
}

/** `docker node update` on the manager (dockerode would need the node's whole spec and version). */
async function nodeUpdate(...args: string[]): Promise<void> {
  await promisify(execFile)('docker', ['-H', `unix://${sockets[0]}`, 'node', 'update', ...args], { env: { ...process.env, DOCKER_API_VERSION: '1.41' } });
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function removeLeftovers(): Promise<void> {
  for (const service of (await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`] } })) as Array<{ ID: string }>) {
    await manager.getService(service.ID).remove().catch(() => undefined);
  }
  // The probe container on the manager and the anchors on every node.
  for (const docker of nodes) {
    for (const container of await docker.listContainers({ all: true, filters: { label: [`${PLATFORM_LABEL}=${platformName}`] } }).catch(() => [])) {
      await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
    }
  }
  // The overlay network goes once the nodes have removed the services' containers.
  for (let attempt = 0; attempt < 100; attempt++) {
    const gone = await manager.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
    if (gone) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const docker of nodes) {
    for (const name of [image, `${pushedApp}:git-${pushedSha.slice(0, 8)}`]) await docker.getImage(name).remove({ force: true }).catch(() => undefined);
  }
}

describe('the platform on the swarm backend', () => {
  beforeAll(async () => {
    await buildTinyImage();
    dataDir = await mkdtemp(join(tmpdir(), `deis-${platformName}-`));
    const [port, sshPort] = [await freePort(), await freePort()];
    builderHttpPort = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: undefined,
      DEIS_DATA_DIR: dataDir,
      DEIS_PLATFORM_NAME: platformName,
      DEIS_NETWORK: platformName,
      // A /24 of the range this file's author was given on the shared cluster.
      DEIS_NETWORK_SUBNET: `100.125.${randomInt(10, 20)}.0/24`,
      DEIS_CONTROLLER_PORT: String(port),
      DEIS_DEPLOY_TIMEOUT: '60',
      KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '2',
      DEIS_SCHEDULER: 'swarm',
      DEIS_SWARM_ENGINES: sockets.map((socket) => `unix://${socket}`).join(','),
      DEIS_BUILDER_KEY: randomBytes(32).toString('hex'),
      DEIS_BUILDER_HTTP_PORT: String(builderHttpPort),
      DEIS_BUILDER_SSH_PORT: String(sshPort),
      DEIS_BUILDER_HTTP_UPSTREAM: `127.0.0.1:${builderHttpPort}`,
    };
    delete env.DATABASE_URL;
    controller = spawn(process.execPath, [join(REPO_ROOT, 'dist/platform.js'), 'controller'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    controller.stdout?.on('data', (chunk: Buffer) => (output += `controller: ${chunk.toString()}`));
    controller.stderr?.on('data', (chunk: Buffer) => (output += `controller: ${chunk.toString()}`));
    // The builder role of its own data directory; unset, DEIS_BUILDER_ENGINE is the swarm manager's engine.
    builder = spawn(process.execPath, [join(REPO_ROOT, 'dist/platform.js'), 'builder'], {
      env: { ...env, DEIS_DATA_DIR: join(dataDir, 'builder-role'), DEIS_CONTROLLER_URL: baseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    builder.stdout?.on('data', (chunk: Buffer) => (output += `builder: ${chunk.toString()}`));
    builder.stderr?.on('data', (chunk: Buffer) => (output += `builder: ${chunk.toString()}`));
    // Without a token the API root answers 401 once the controller listens.
    await until('the controller answering', async () => ((await fetch(`${baseUrl}/v2/`).catch(() => null))?.status === 401 ? true : undefined), 60_000);
    expect(output).toContain('starting the scheduler (Docker Swarm:');
    await expectStatus('POST', '/v2/auth/register/', 201, { username: 'swpadmin', password: 'swp-password', email: 'swp@example.com' });
    token = ((await expectStatus('POST', '/v2/auth/login/', 200, { username: 'swpadmin', password: 'swp-password' })) as { token: string }).token;
    await expectStatus('POST', '/v2/apps/', 201, { id: app });
  });

  afterAll(async () => {
    await nodeUpdate('--label-rm', labelKey, 'deisc-node2').catch(() => undefined);
    if (token) await api('DELETE', `/v2/apps/${app}/`).catch(() => undefined);
    if (token) await api('DELETE', `/v2/apps/${pushedApp}/`).catch(() => undefined);
    await stopProcess(builder);
    await stopProcess(controller);
    await removeLeftovers();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('deploys a build as Swarm services on the nodes and spreads a scale over more than one node', async () => {
    await expectStatus('POST', `/v2/apps/${app}/builds/`, 201, { image, procfile: { web: 'exec httpd -f -p $PORT -h /www' } });
    // The deploy answers once the node has started the container; the manager says so a moment later.
    const deployed = await until('one running task', async () => {
      const tasks = await runningTasks();
      return tasks.length > 0 ? tasks : undefined;
    }, 30_000);
    expect(deployed).toHaveLength(1);
    expect(deployed[0]!.service).toMatch(new RegExp(`^${app}-web-`));
    // DEIS_CONTAINER_PIDS_LIMIT (1024 by default) holds on the swarm too.
    const spec = (await manager.getService(deployed[0]!.service).inspect()) as { Spec: { TaskTemplate: { Resources?: { Limits?: { Pids?: number } } } } };
    expect(spec.Spec.TaskTemplate.Resources?.Limits?.Pids).toBe(1024);

    await expectStatus('POST', `/v2/apps/${app}/scale/`, 204, { web: 3 });
    const scaled = await until('three running tasks', async () => {
      const tasks = await runningTasks();
      return tasks.length === 3 ? tasks : undefined;
    }, 60_000);
    expect(new Set(scaled.map((task) => task.node)).size).toBeGreaterThan(1);
    for (const task of scaled) expect(task.node).toMatch(/^deisc-node[123]$/);

    const pods = (await expectStatus('GET', `/v2/apps/${app}/pods/`, 200)) as { results: Array<{ type: string; state: string }> };
    expect(pods.results.filter((pod) => pod.type === 'web' && pod.state === 'up')).toHaveLength(3);
  });

  it('lists the swarm\'s three nodes to an admin, the manager first, with the app\'s containers on them', async () => {
    type Listed = { hostname: string; role: string; state: string; availability: string; address: string; containers: number };
    const page = (await expectStatus('GET', '/v2/nodes/', 200)) as { count: number; results: Listed[] };
    expect(page.count).toBe(3);
    expect(page.results.map((node) => [node.hostname, node.role, node.state, node.availability, node.address])).toEqual([
      ['deisc-node1', 'manager', 'ready', 'active', '100.124.0.11'],
      ['deisc-node2', 'worker', 'ready', 'active', '100.124.0.12'],
      ['deisc-node3', 'worker', 'ready', 'active', '100.124.0.13'],
    ]);
    const counts = Object.fromEntries(page.results.map((node) => [node.hostname, node.containers]));
    const placed: Record<string, number> = {};
    for (const task of await runningTasks()) placed[task.node] = (placed[task.node] ?? 0) + 1;
    // Only this platform's containers count, not the other tests' on the shared cluster.
    expect(counts).toEqual({ 'deisc-node1': placed['deisc-node1'] ?? 0, 'deisc-node2': placed['deisc-node2'] ?? 0, 'deisc-node3': placed['deisc-node3'] ?? 0 });
  });

  it('places the containers of a tagged app only on the nodes with those labels, and refuses a tag no node has', async () => {
    const refused = await api('POST', `/v2/apps/${app}/config/`, { tags: { [labelKey]: 'b' } });
    expect(refused).toEqual({ status: 400, body: { detail: `No nodes matched the provided labels: ${labelKey}=b` } });

    await nodeUpdate('--label-add', `${labelKey}=b`, 'deisc-node2');
    await expectStatus('POST', `/v2/apps/${app}/config/`, 201, { tags: { [labelKey]: 'b' } });
    const moved = await until('three running tasks of the tagged release', async () => {
      const tasks = await runningTasks();
      return tasks.length === 3 && tasks.every((task) => task.node === 'deisc-node2') ? tasks : undefined;
    }, 60_000);
    expect(new Set(moved.map((task) => task.node))).toEqual(new Set(['deisc-node2']));

    const labelled = await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`, `io.deis.app=${app}`] } });
    for (const service of labelled as Array<{ Spec: { TaskTemplate: { Placement?: { Constraints?: string[] } } } }>) {
      expect(service.Spec.TaskTemplate.Placement?.Constraints).toEqual([`node.labels.${labelKey}==b`]);
    }

    // The label gone, no node fits a new container: a deploy fails at once with Swarm's reason. Unlike a Kubernetes
    // nodeSelector, Swarm also stops the running containers that no longer fit (its constraint enforcer rejects them),
    // which the platform then reports crashed.
    await nodeUpdate('--label-rm', labelKey, 'deisc-node2');
    const began = Date.now();
    const failed = await api('POST', `/v2/apps/${app}/config/`, { values: { SWP: '1' } });
    expect(failed.status).toBe(400);
    expect((failed.body as { detail: string }).detail).toContain('no suitable node');
    expect((failed.body as { detail: string }).detail).toContain(`node.labels.${labelKey}==b`);
    expect(Date.now() - began).toBeLessThan(30_000);
    await until('the containers placed by the label reported crashed', async () => {
      const pods = (await expectStatus('GET', `/v2/apps/${app}/pods/`, 200)) as { results: Array<{ name: string; state: string }> };
      return pods.results.length === 3 && pods.results.every((pod) => pod.state === 'crashed') ? true : undefined;
    }, 30_000);
  });

  it('builds a git push on the manager\'s engine (the builder role on a swarm) and deploys it on the nodes', async () => {
    await expectStatus('POST', '/v2/apps/', 201, { id: pushedApp });
    const repo = await mkdtemp(join(tmpdir(), 'swp-repo-'));
    const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'swp', GIT_AUTHOR_EMAIL: 'swp@example.com', GIT_COMMITTER_NAME: 'swp', GIT_COMMITTER_EMAIL: 'swp@example.com', GIT_TERMINAL_PROMPT: '0' };
    const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: repo, env: gitEnv });
    try {
      await writeFile(join(repo, 'Dockerfile'), 'FROM deis/base:busybox\nRUN mkdir /www && echo pushed > /www/index.html\nEXPOSE 5000\nCMD ["sh", "-c", "exec httpd -f -p $PORT -h /www"]\n');
      await git('init', '-q', '-b', 'main');
      await git('add', '-A');
      await git('commit', '-q', '-m', 'first');
      pushedSha = (await git('rev-parse', 'HEAD')).stdout.trim();
      await until('the builder answering', async () => ((await fetch(`http://127.0.0.1:${builderHttpPort}/`).catch(() => null)) ? true : undefined), 30_000);
      const pushed = await git('push', `http://swpadmin:${token}@127.0.0.1:${builderHttpPort}/${pushedApp}.git`, 'main').catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`git push failed: ${error.stdout ?? ''}${error.stderr ?? ''}\n--- platform:\n${output.slice(-4000)}`);
      });
      expect(pushed.stdout + pushed.stderr).toContain(`Done, ${pushedApp}:v2 deployed to Workflow`);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
    const built = `${pushedApp}:git-${pushedSha.slice(0, 8)}`;
    // Built by the manager's engine, not by this host's, which the builder would use without the setting.
    expect(await manager.getImage(built).inspect().then(() => true, () => false)).toBe(true);
    expect(await new Docker().getImage(built).inspect().then(() => true, () => false)).toBe(false);
    const services = (await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`, `io.deis.app=${pushedApp}`] } })) as Array<{ ID: string }>;
    expect(services).toHaveLength(1);
    await until('the pushed app\'s task running', async () => {
      const tasks = (await manager.listTasks({ filters: { service: [services[0]!.ID], 'desired-state': ['running'] } })) as Task[];
      return tasks.some((task) => task.Status.State === 'running') ? true : undefined;
    }, 30_000);
  });
});
