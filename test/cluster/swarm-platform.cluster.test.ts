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

interface Task {
  NodeID: string;
  ServiceID: string;
  Status: { State: string };
  DesiredState: string;
}

let controller: ChildProcess | undefined;
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

async function removeLeftovers(): Promise<void> {
  for (const service of (await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`] } })) as Array<{ ID: string }>) {
    await manager.getService(service.ID).remove().catch(() => undefined);
  }
  await manager.getContainer(`${platformName}-probe`).remove({ force: true }).catch(() => undefined);
  // The overlay network goes once the nodes have removed the services' containers.
  for (let attempt = 0; attempt < 100; attempt++) {
    const gone = await manager.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
    if (gone) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const docker of nodes) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
}

describe('the platform on the swarm backend', () => {
  beforeAll(async () => {
    await buildTinyImage();
    dataDir = await mkdtemp(join(tmpdir(), `deis-${platformName}-`));
    const port = await freePort();
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
    };
    delete env.DATABASE_URL;
    controller = spawn(process.execPath, [join(REPO_ROOT, 'dist/platform.js'), 'controller'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    controller.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    controller.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
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
    if (controller && controller.exitCode === null) {
      const exited = new Promise((resolve) => controller!.once('exit', resolve));
      controller.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (controller.exitCode === null) controller.kill('SIGKILL');
    }
    await removeLeftovers();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('deploys a build as Swarm services on the nodes and spreads a scale over more than one node', async () => {
    await expectStatus('POST', `/v2/apps/${app}/builds/`, 201, { image, procfile: { web: 'exec httpd -f -p $PORT -h /www' } });
    const deployed = await runningTasks();
    expect(deployed).toHaveLength(1);
    expect(deployed[0]!.service).toMatch(new RegExp(`^${app}-web-`));

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

    const labels = await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`, `io.deis.app=${app}`] } });
    for (const service of labels as Array<{ Spec: { TaskTemplate: { Placement?: { Constraints?: string[] } } } }>) {
      expect(service.Spec.TaskTemplate.Placement?.Constraints).toEqual([`node.labels.${labelKey}==b`]);
    }
  });
});
