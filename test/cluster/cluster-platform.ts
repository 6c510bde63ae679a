/**
 * The whole platform on the 3-node test cluster (docs/cluster-testing.md), the way an operator would spread it over
 * three machines: PostgreSQL, the registry, the builder and a controller on node 1, a second controller on node 2, an edge router
 * on nodes 1 and 2 (nginx in a sandbox on the platform's overlay network), the `swarm` scheduler placing app
 * containers on all three. Each process of the platform runs in its node's network namespace; the developer's `deis`
 * and `git`, and the load, run on the client machine (the hub). Only addresses of the cluster are used.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newCliUser } from '../e2e/drivers/cli.ts';
import type { CliUser } from '../e2e/drivers/cli.ts';
import { sampleAppRepo } from '../e2e/drivers/git.ts';
import type { AppRepo } from '../e2e/drivers/git.ts';
import { DEFAULT_CERTS_DIR, forgetRegistryCa } from '@deis/scheduler/registry/platform-registry';
import { REPO_ROOT } from '../e2e/drivers/platform.ts';
import { runProgram } from '../e2e/drivers/processes.ts';
import type { Completed } from '../e2e/drivers/processes.ts';
import { CLUSTER_SOCKETS, clusterEngines } from './cluster.ts';
import type { LoadReport } from './load-client.ts';

export const nodeAddress = (n: number): string => `100.124.0.1${n}`;
const nodeNetns = (n: number): string => `/run/netns/deisc-node${n}`;
export const CLIENT_NETNS = '/run/netns/deisc-hub';

export const CONTROLLER_PORT = 8000;
export const ROUTER_PORT = 80;
export const SSH_PORT = 2222;
const BUILDER_HTTP_PORT = 3000;
const POSTGRES_PORT = 5432;

export interface RoleProcess {
  name: string;
  node: number;
  child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited. */
  exited(): Promise<void>;
}

export interface ClusterPlatform {
  name: string;
  /** The platform's registry on node 1 (ADR 0019), which the builder pushes to and the nodes pull from. */
  registry: { address: string; password: string; caFile: string } | null;
  builderKey: string;
  domain: string;
  network: string;
  roles: RoleProcess[];
  /** The controllers' URLs as the client machine reaches them. */
  controllerUrls: string[];
  /** `address:port` of each edge router, as the client machine reaches them. */
  routers: string[];
  /** Starts (again) one role by its name (`controller1`, `controller2`, `router1`, ...). */
  restart(name: string): Promise<RoleProcess>;
  outputs(): string;
  stop(): Promise<void>;
}

interface RoleDefinition {
  name: string;
  role: 'controller' | 'builder' | 'router' | 'registry';
  node: number;
  env: Record<string, string>;
}

/** Runs a program on the client machine. */
export function onClient(program: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Completed> {
  return runProgram('nsenter', [`--net=${CLIENT_NETNS}`, program, ...args], options);
}

/** Runs a program on node `n` (its network only: files are the host's). */
export function onNode(n: number, program: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Completed> {
  return runProgram('nsenter', [`--net=${nodeNetns(n)}`, program, ...args], options);
}

/** One HTTP request from the client machine; status 0 when it got no answer. */
export async function clientRequest(target: string, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const result = await onClient('curl', ['-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}', '-H', `Host: ${host}`, `http://${target}${path}`]);
  const at = result.stdout.lastIndexOf('\n');
  return { status: Number(result.stdout.slice(at + 1)) || 0, body: result.stdout.slice(0, Math.max(at, 0)) };
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, diagnostics: () => string = () => ''): Promise<number> {
  const began = Date.now();
  while (Date.now() - began < timeoutMs) {
    if (await check()) return Date.now() - began;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms\n${diagnostics()}`);
}

async function answers(n: number, url: string): Promise<boolean> {
  const result = await onNode(n, 'curl', ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', url]);
  return result.stdout === '200';
}

/** A PostgreSQL of the test's own on node 1, listening on the node's address. */
async function startPostgres(dir: string): Promise<() => Promise<void>> {
  const bin = (await runProgram('bash', ['-c', 'dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -n 1)"'])).stdout.trim();
  const postgres = (await runProgram('id', ['-u', 'postgres'])).stdout.trim();
  chownSync(dir, Number(postgres), Number(postgres));
  chmodSync(dir, 0o700);
  const asPostgres = (program: string, args: string[]) => onNode(1, 'runuser', ['-u', 'postgres', '--', join(bin, program), ...args]);
  const init = await asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'deis', '--auth=trust']);
  if (init.code !== 0) throw new Error(`initdb: ${init.stderr}`);
  // The controllers connect from the nodes' addresses.
  appendFileSync(join(dir, 'data', 'pg_hba.conf'), 'host all all 100.124.0.0/24 trust\n');
  const options = `-c listen_addresses=${nodeAddress(1)} -p ${POSTGRES_PORT} -k ${dir} -c fsync=off -c max_connections=200`;
  const started = await asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o', options, 'start']);
  if (started.code !== 0) throw new Error(`pg_ctl start: ${started.stderr}${started.stdout}`);
  return async () => {
    await asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
  };
}

export const REGISTRY_PORT = 5000;

/**
 * Starts the platform on the cluster, with its registry on node 1 unless `options.registry` is false (the nodes then
 * get images copied from the manager's engine). `extraEnv` adds settings to every role. Subnets: the platform's overlay
 * takes a /24 of 100.125.40.0/21.
 */
export async function startClusterPlatform(extraEnv: Record<string, string> = {}, options: { registry?: boolean } = {}): Promise<ClusterPlatform> {
  const id = randomBytes(3).toString('hex');
  const name = `deis-cl-${id}`;
  const domain = 'cluster.test';
  const workDir = mkdtempSync(join(tmpdir(), `${name}-`));
  // A directory of its own: the work directory is root's alone, and PostgreSQL runs as its own user.
  const postgresDir = mkdtempSync(join(tmpdir(), `${name}-pg-`));
  const stopPostgres = await startPostgres(postgresDir);
  const registry =
    options.registry === false
      ? null
      : { address: `${nodeAddress(1)}:${REGISTRY_PORT}`, password: randomBytes(18).toString('base64url'), caFile: join(workDir, 'registry', 'registry', 'tls', 'ca.crt') };
  const engines = CLUSTER_SOCKETS.map((socket) => `unix://${socket}`).join(',');
  const common: Record<string, string> = {
    DEIS_PLATFORM_NAME: name,
    DEIS_PLATFORM_DOMAIN: domain,
    DEIS_NETWORK: name,
    DEIS_NETWORK_SUBNET: `100.125.${40 + (randomBytes(1)[0]! % 8)}.0/24`,
    DEIS_MANAGE_HOSTS_FILE: '0',
    // The controllers' request lines would bury what a failed test needs in their output.
    DEIS_LOG_LEVEL: 'warn',
    DEIS_DEPLOY_TIMEOUT: '60',
    KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '2',
    DEIS_BUILDER_KEY: randomBytes(32).toString('hex'),
    DEIS_CONTAINER_KEY: randomBytes(32).toString('hex'),
    DEIS_ROUTER_HTTP_PORT: String(ROUTER_PORT),
    DEIS_ROUTER_HTTPS_PORT: '443',
    // A dead node's containers never refuse a connection: the routers try the next within 2 s.
    DEIS_ROUTER_CONNECT_TIMEOUT: '2',
    DEIS_BUILDER_SSH_PORT: String(SSH_PORT),
    DEIS_BUILDER_HTTP_PORT: String(BUILDER_HTTP_PORT),
    DEIS_CONTROLLER_PORT: String(CONTROLLER_PORT),
    // Developers sign themselves up, as on a team's own platform; the first user still registers on node 1.
    REGISTRATION_MODE: 'enabled',
    DEIS_SCHEDULER: 'swarm',
    DEIS_SWARM_ENGINES: engines,
    // The controllers and the builder trust its CA (and write it to /etc/docker/certs.d, which the nodes share).
    ...(registry ? { DEIS_REGISTRY: registry.address, DEIS_REGISTRY_PASSWORD: registry.password, DEIS_REGISTRY_CA: registry.caFile } : {}),
    ...extraEnv,
  };
  const controllerUrls = [1, 2].map((n) => `http://${nodeAddress(n)}:${CONTROLLER_PORT}`);
  const controllerEnv = {
    ...common,
    DATABASE_URL: `postgres://deis@${nodeAddress(1)}:${POSTGRES_PORT}/postgres`,
    DEIS_CONTROLLER_LISTEN: '0.0.0.0',
    DEIS_BUILDER_HTTP_UPSTREAM: `${nodeAddress(1)}:${BUILDER_HTTP_PORT}`,
  };
  const definitions: RoleDefinition[] = [
    ...(registry
      ? [{ name: 'registry', role: 'registry' as const, node: 1, env: { DEIS_REGISTRY_LISTEN: registry.address, DEIS_REGISTRY_PASSWORD: registry.password, DEIS_REGISTRY_GC_INTERVAL: '0' } }]
      : []),
    // Each routes `deis.<domain>` to itself, at its node's address, which the edge routers' sandboxes reach.
    ...[1, 2].map((n) => ({ name: `controller${n}`, role: 'controller' as const, node: n, env: { ...controllerEnv, DEIS_CONTROLLER_UPSTREAM: `${nodeAddress(n)}:${CONTROLLER_PORT}` } })),
    // Builds on the manager's engine: without a registry, the scheduler copies images from the manager to the nodes.
    // The builder and each router know both controllers, their own node's first, and fail over between them.
    { name: 'builder', role: 'builder', node: 1, env: { ...common, DEIS_CONTROLLER_URL: controllerUrls.join(','), DEIS_BUILDER_LISTEN: '0.0.0.0', DEIS_BUILDER_ENGINE: `unix://${CLUSTER_SOCKETS[0]}` } },
    ...[1, 2].map((n) => ({
      name: `router${n}`,
      role: 'router' as const,
      node: n,
      env: { ...common, DEIS_CONTROLLER_URL: (n === 1 ? controllerUrls : [...controllerUrls].reverse()).join(','), DEIS_ROUTER_EDGE_ENGINE: `unix://${CLUSTER_SOCKETS[n - 1]}`, DEIS_ROUTER_EDGE_NETWORK: name },
    })),
  ];
  const roles: RoleProcess[] = [];
  const outputs = () => roles.map((r) => `--- ${r.name} (node ${r.node}):\n${r.output().slice(-3000)}`).join('\n');

  const start = (definition: RoleDefinition): RoleProcess => {
    const dataDir = join(workDir, definition.name);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    let output = '';
    const child = spawn('nsenter', [`--net=${nodeNetns(definition.node)}`, process.execPath, join(REPO_ROOT, 'dist/platform.js'), definition.role], {
      env: { ...process.env, ...definition.env, DEIS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const role: RoleProcess = { name: definition.name, node: definition.node, child, output: () => output, exited: () => exit };
    const at = roles.findIndex((r) => r.name === definition.name);
    if (at >= 0) roles[at] = role;
    else roles.push(role);
    return role;
  };
  const ready = async (definition: RoleDefinition): Promise<void> => {
    const role = roles.find((r) => r.name === definition.name)!;
    const check =
      definition.role === 'registry'
        ? () => role.output().includes('platform: ready')
        : definition.role === 'controller'
        ? () => answers(definition.node, `http://127.0.0.1:${CONTROLLER_PORT}/healthz`)
        : definition.role === 'router'
          ? async () => (await clientRequest(`${nodeAddress(definition.node)}:${ROUTER_PORT}`, `deis.${domain}`, '/healthz')).status === 200
          : async () => (await onNode(definition.node, 'bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${SSH_PORT}`])).code === 0;
    await until(`${definition.name} ready`, async () => {
      if (role.child.exitCode !== null || role.child.signalCode !== null) throw new Error(`${definition.name} exited\n${outputs()}`);
      return check();
    }, 120_000, outputs);
  };

  const stop = async (): Promise<void> => {
    for (const role of roles) if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGTERM');
    await Promise.all(roles.map((role) => role.exited()));
    await removeClusterResources(name, registry?.address);
    if (registry) {
      forgetRegistryCa(registry.address);
      try {
        rmdirSync(DEFAULT_CERTS_DIR);
      } catch {
        // another registry's trust lives there
      }
    }
    await stopPostgres();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(postgresDir, { recursive: true, force: true });
  };

  try {
    // The registry first (the others trust its CA, made at its start), then the first controller, which makes the
    // overlay network and the stack images; the others find them.
    const first = definitions.findIndex((d) => d.role === 'controller') + 1;
    for (const definition of definitions.slice(0, first)) {
      start(definition);
      await ready(definition);
    }
    for (const definition of definitions.slice(first)) start(definition);
    for (const definition of definitions.slice(first)) await ready(definition);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }

  return {
    name,
    registry,
    builderKey: common.DEIS_BUILDER_KEY!,
    domain,
    network: name,
    roles,
    controllerUrls,
    routers: [1, 2].map((n) => `${nodeAddress(n)}:${ROUTER_PORT}`),
    outputs,
    async restart(roleName) {
      const definition = definitions.find((d) => d.name === roleName);
      if (!definition) throw new Error(`no role ${roleName}`);
      const role = start(definition);
      await ready(definition);
      return role;
    },
    stop,
  };
}

/** Removes what a platform of this name left on the cluster: services, sandboxes, the overlay network, its registry's images. */
export async function removeClusterResources(name: string, registry?: string): Promise<void> {
  const [manager, ...workers] = clusterEngines();
  const label = `io.deis.platform=${name}`;
  for (const service of (await manager!.listServices({ filters: { label: [label] } }).catch(() => [])) as Array<{ ID: string }>) {
    await manager!.getService(service.ID).remove().catch(() => undefined);
  }
  for (const engine of [manager!, ...workers]) {
    for (const container of await engine.listContainers({ all: true, filters: { label: [label] } }).catch(() => [])) {
      await engine.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
    }
  }
  for (const engine of [manager!, ...workers]) {
    for (const image of (await engine.listImages().catch(() => [])) as Array<{ RepoTags?: string[] }>) {
      for (const tag of image.RepoTags ?? []) if (registry && tag.startsWith(`${registry}/`)) await engine.getImage(tag).remove({ force: true }).catch(() => undefined);
    }
  }
  await until('the overlay network removed', () => manager!.getNetwork(name).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404), 30_000).catch(() => undefined);
}

export interface ClusterDeveloper {
  user: CliUser;
  /** `deis` on the client machine; `env` adds to the user's (e.g. DEIS_CONTROLLER_URL for another controller). */
  deis(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Completed>;
  /** A new app of a sample, created with its `deis` remote on the builder, pushed with `git` on the client machine. */
  newApp(sample: string, app: string): Promise<AppRepo>;
}

function succeeded(what: string, result: Completed): Completed {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * A developer on the client machine, with an SSH key and a login on the first controller. The platform's first
 * user (its admin) registers first on the controller's own machine, as the platform requires of a first
 * registration.
 */
export async function clusterDeveloper(platform: ClusterPlatform): Promise<ClusterDeveloper> {
  const admin = newCliUser();
  succeeded('the admin\'s register', await onNode(1, process.execPath, [join(REPO_ROOT, 'dist/deis.js'), 'register', `http://127.0.0.1:${CONTROLLER_PORT}`, '--username=ops', '--password=correct-horse-battery', '--email=ops@example.test'], { env: admin.env }));
  const user = newCliUser();
  const keyPath = join(user.home, '.ssh', 'id_ed25519');
  mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
  succeeded('ssh-keygen', await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', keyPath]));
  user.env.GIT_SSH_COMMAND = `ssh -i ${keyPath} -p ${SSH_PORT} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
  const deis = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    onClient(process.execPath, [join(REPO_ROOT, 'dist/deis.js'), ...args], { cwd: options.cwd ?? user.home, env: { ...user.env, ...options.env }, timeoutMs: 180_000 });
  succeeded('register', await deis(['register', platform.controllerUrls[0]!, '--username=ada', '--password=correct-horse-battery', '--email=ada@example.test']));
  succeeded('keys:add', await deis(['keys:add', `${keyPath}.pub`]));
  return {
    user,
    deis,
    async newApp(sample, app) {
      const local = await sampleAppRepo(sample, user.env);
      succeeded('create', await deis(['create', app, '--no-remote'], { cwd: local.dir }));
      const git = (args: string[]) => onClient('git', args, { cwd: local.dir, env: user.env, timeoutMs: 300_000 });
      succeeded('git remote', await git(['remote', 'add', 'deis', `ssh://git@${nodeAddress(1)}:${SSH_PORT}/${app}.git`]));
      return { ...local, git };
    },
  };
}

export interface RunningTask {
  /** The node (1 to 3) it runs on; 0 when the manager no longer knows the node. */
  node: number;
  image: string;
  labels: Record<string, string>;
  /** Its addresses on the overlay. */
  addresses: string[];
}

/** The platform's containers running now, as the manager reports their tasks. */
export async function runningTasks(platform: ClusterPlatform): Promise<RunningTask[]> {
  const [manager] = clusterEngines();
  const nodes = (await manager!.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string } }>;
  const tasks = (await manager!.listTasks({ filters: { 'desired-state': ['running'], label: [`io.deis.platform=${platform.name}`] } })) as Array<{
    NodeID?: string;
    Status?: { State?: string };
    Spec?: { ContainerSpec?: { Image?: string; Labels?: Record<string, string> } };
    NetworksAttachments?: Array<{ Addresses?: string[] }>;
  }>;
  return tasks
    .filter((t) => t.Status?.State === 'running')
    .map((t) => ({
      node: Number(/node(\d)$/.exec(nodes.find((n) => n.ID === t.NodeID)?.Description?.Hostname ?? '')?.[1] ?? 0),
      image: t.Spec?.ContainerSpec?.Image ?? '',
      labels: t.Spec?.ContainerSpec?.Labels ?? {},
      addresses: (t.NetworksAttachments ?? []).flatMap((a) => a.Addresses ?? []).map((a) => a.split('/')[0]!),
    }));
}

/** The nodes (1 to 3) an app's running containers of a type are on, one entry per container, sorted. */
export async function nodesOf(platform: ClusterPlatform, app: string, type = 'web'): Promise<number[]> {
  return (await runningTasks(platform))
    .filter((t) => t.labels['io.deis.app'] === app && t.labels['io.deis.type'] === type)
    .map((t) => t.node)
    .sort();
}

/** The containers (hostnames) that answer an app through one router, over `requests` requests. */
export async function answeringContainers(platform: ClusterPlatform, router: string, app: string, requests: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const response = await clientRequest(router, `${app}.${platform.domain}`);
    const host = /on (\S+)/.exec(response.body)?.[1];
    if (response.status === 200 && host) seen.add(host);
  }
  return seen;
}

export interface ClusterLoad {
  /** When the load began (Date.now()), the origin of the report's times. */
  startedAt: number;
  /** Ends the load and resolves with its report. */
  stop(): Promise<LoadReport>;
}

/** A load (load-client.ts) from the client machine through every edge router to an app, bounded in count. */
export function startLoad(platform: ClusterPlatform, app: string, concurrency: number, maxRequests: number): ClusterLoad {
  const load = spawn('nsenter', [`--net=${CLIENT_NETNS}`, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test/cluster/load-client.ts'), `${app}.${platform.domain}`, String(concurrency), String(maxRequests), ...platform.routers], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  load.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  load.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => load.once('exit', () => resolve()));
  return {
    startedAt: Date.now(),
    async stop() {
      load.stdin.end();
      await exited;
      const last = output.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(last) as LoadReport;
      } catch {
        throw new Error(`the load client printed no report:\n${output}`);
      }
    },
  };
}

/** The overlay addresses of the platform's running containers on node `n`. */
export async function containerAddressesOn(platform: ClusterPlatform, n: number): Promise<string[]> {
  return (await runningTasks(platform)).filter((t) => t.node === n).flatMap((t) => t.addresses);
}

/** Whether the routing table the first controller hands its routers names any of these container addresses. */
export async function routingTableNames(platform: ClusterPlatform, addresses: string[]): Promise<boolean> {
  const table = await onNode(1, 'curl', ['-s', '-m', '2', '-H', `x-deis-builder-auth: ${platform.builderKey}`, `http://127.0.0.1:${CONTROLLER_PORT}/v2/hooks/routes?after=0&wait=0`]);
  return addresses.some((address) => table.stdout.includes(`"${address}"`));
}
