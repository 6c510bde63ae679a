/**
 * The router on a cluster (ADR 0020): three app containers are swarm tasks, one on each node, a real controller serves
 * their task addresses (on the overlay) in its routing table, and two routers in edge mode run nginx in sandboxes on
 * node 2 and node 3. Requests come from the client machine (the hub) to each node's address: every task answers
 * through either node, over HTTP and HTTPS, a task leaving the table is followed without a reload and with no failed
 * request, a new host name is reloaded inside the sandbox, a sandbox removed or killed under a router is replaced, a
 * router started again adopts its sandbox, and so does the built platform's router role.
 * @module
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeTime } from '@deis/controller/clock';
import { useUpstreamSource } from '@deis/controller/routing/routing-table';
import { startTestController } from '@deis/controller/testing/test-controller';
import type { TestController } from '@deis/controller/testing/test-controller';
import { startRouter } from '@deis/router/router';
import type { RunningRouter } from '@deis/router/router';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { SwarmScheduler } from '@deis/scheduler/swarm/swarm-scheduler';
import type { RouteUpstream } from '@deis/sdk/types';
import { clusterEngines } from './cluster.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);
const nodes = clusterEngines(sockets);
const manager = nodes[0]!;
const HUB = '/run/netns/deisc-hub';
/** The built platform (`npm run build`), whose router role the last test runs. */
const PLATFORM_JS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'platform.js');
/** The platform's roles want a builder key of at least 32 characters. */
const BUILDER_KEY = randomBytes(24).toString('hex');
/** The edge routers run on node 2 and node 3 (index 1 and 2). */
const EDGE_NODES = [
  { index: 1, address: '100.124.0.12' },
  { index: 2, address: '100.124.0.13' },
];

interface Answer {
  status: number;
  name?: string;
  forwardedFor?: string;
  error?: string;
}

/**
 * The client machine's requests, one connection each, to `address:port` with the Host header `host`: `count` of them,
 * and in load mode more until its stdin ends (it says `started` on stderr after its first answer). The test's own
 * process has no route to the cluster: a Node child in the hub's network namespace sends them.
 */
const CLIENT_SCRIPT = `
  const [address, port, host, count, tls, load] = JSON.parse(process.argv[1]);
  const client = require(tls ? 'https' : 'http');
  let more = load;
  if (load) {
    process.stdin.on('end', () => (more = false));
    process.stdin.resume();
  }
  const one = () => new Promise((resolve) => {
    const options = { host: address, port, path: '/', agent: false, headers: { host }, timeout: 5000, servername: host, rejectUnauthorized: false };
    const request = client.get(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        let parsed = {};
        try { parsed = JSON.parse(body); } catch {}
        resolve({ status: response.statusCode, name: parsed.name, forwardedFor: parsed.forwardedFor });
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve({ status: 0, error: error.message }));
  });
  (async () => {
    const answers = [];
    for (let i = 0; i < count || more; i++) {
      answers.push(await one());
      if (load && i === 0) process.stderr.write('started\\n');
    }
    console.log(JSON.stringify(answers));
  })();
`;

async function fromClient(address: string, port: number, host: string, count: number, tls = false): Promise<Answer[]> {
  const { stdout } = await promisify(execFile)('nsenter', [`--net=${HUB}`, process.execPath, '-e', CLIENT_SCRIPT, JSON.stringify([address, port, host, count, tls, false])], { timeout: 60_000 });
  return JSON.parse(stdout) as Answer[];
}

/** Requests one after the other until `stop`, which resolves with every answer; started once the first is in. */
async function loadFromClient(address: string, port: number, host: string): Promise<{ stop: () => Promise<Answer[]> }> {
  const child = spawn('nsenter', [`--net=${HUB}`, process.execPath, '-e', CLIENT_SCRIPT, JSON.stringify([address, port, host, 1, false, true])], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually(() => stderr, (text) => text.includes('started') || child.exitCode !== null, 30_000);
  return {
    stop: async () => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the load ended with ${code}: ${stderr}`);
      return JSON.parse(stdout) as Answer[];
    },
  };
}

/**
 * Pins a container (a one-replica service) to a node: Swarm would place three services wherever the shared cluster has
 * the fewest tasks, maybe all on one node. The changed spec makes Swarm replace the task there, and the scheduler's
 * container is the service's newest task.
 */
async function placeOn(name: string, nodeIndex: number): Promise<void> {
  const nodeId = ((await nodes[nodeIndex]!.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
  const onNode = async () =>
    ((await manager.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })) as Array<{ NodeID: string; Status: { State: string } }>).filter(
      (task) => task.NodeID === nodeId && task.Status.State === 'running',
    ).length === 1;
  if (await onNode()) return;
  const service = (await manager.getService(name).inspect()) as { ID: string; Version: { Index: number }; Spec: { TaskTemplate: Record<string, unknown> } };
  const spec = { ...service.Spec, TaskTemplate: { ...service.Spec.TaskTemplate, Placement: { Constraints: [`node.id==${nodeId}`] } } };
  await manager.getService(service.ID).update({ _query: { version: service.Version.Index }, _body: spec } as never);
  await eventually(onNode, (placed) => placed, 60_000);
}

/** nginx's master (from its pid file) and its workers, to tell a reload (new workers) from none. */
function nginxProcesses(dataDir: string): { master: number; workers: number[] } {
  const master = Number(readFileSync(join(dataDir, 'nginx.pid'), 'utf8').trim());
  const workers: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === master) workers.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return { master, workers: workers.sort((a, b) => a - b) };
}

describe('the router on a cluster, in edge mode', () => {
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-edge-${id}`;
  const sandboxName = `${platformName}-edge-router`;
  const labels = { 'edge-run': id };
  // Ports of this test's own (not 80/443): another test's routers may run on the same nodes.
  const httpPort = 20000 + 2 * Math.floor(Math.random() * 2000);
  const httpsPort = httpPort + 1;
  const appHost = `edgeapp.${id}.test`;
  const names = [1, 2, 3].map((n) => `edge-${id}-${n}`);
  let scheduler: SwarmScheduler;
  let controller: TestController;
  let controllerUrl: string;
  let ownerId: number;
  let appUuid: string;
  let upstreams: RouteUpstream[] = [];
  const routers: Array<RunningRouter | null> = [null, null];
  const dataDirs: string[] = [];
  const errors: Error[] = [];
  let clock = Date.parse('2026-01-01T00:00:00.000Z');

  const startEdgeRouter = (which: number) =>
    startRouter({
      controllerUrl,
      builderKey: BUILDER_KEY,
      dataDir: dataDirs[which]!,
      httpPort,
      httpsPort,
      workerProcesses: 2,
      pollSeconds: 5,
      onError: (error) => errors.push(error),
      // Node 3's router publishes on the node's address only; node 2's on all of its addresses.
      ...(which === 1 ? { listenAddress: EDGE_NODES[which]!.address } : {}),
      edge: { engine: `unix://${sockets[EDGE_NODES[which]!.index]}`, network: platformName, name: sandboxName, platformName, checkIntervalMs: 500 },
    });

  /** Marks the table changed and resolves once both routers serve it. */
  const applied = async () => {
    const generation = controller.deps.routing.changed();
    await eventually(
      () => routers.map((router) => router?.generation() ?? 0),
      (served) => served.every((g) => g >= generation),
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; router errors: ${errors.map((e) => e.message).join(' | ')}`);
    });
  };

  const sandboxId = async (which: number) => ((await nodes[EDGE_NODES[which]!.index]!.getContainer(sandboxName).inspect()) as { Id: string }).Id;

  beforeAll(async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.20.0/24', containerKey: randomBytes(16).toString('hex') });
    for (const name of names) {
      await scheduler.start({
        name,
        image: 'deis/node:20',
        command: [
          'node',
          '-e',
          "require('http').createServer((q, r) => r.end(JSON.stringify({ name: process.env.NAME, forwardedFor: q.headers['x-forwarded-for'] }))).listen(5000)",
        ],
        env: { NAME: name },
        labels: { ...labels, n: name },
        port: 5000,
      });
    }
    for (const [index, name] of names.entries()) await placeOn(name, index);
    for (const name of names) await scheduler.waitReady(name, { kind: 'http', port: 5000, path: '/' }, 60_000);
    upstreams = (await scheduler.list(labels)).map((container) => container.address!);

    controller = await startTestController({ platformDomain: `${id}.test`, builderKey: BUILDER_KEY });
    await controller.user('owner');
    ownerId = (await controller.deps.db.selectFrom('users').select('id').where('username', '=', 'owner').executeTakeFirstOrThrow()).id;
    appUuid = randomUUID();
    const now = storeTime(new Date((clock += 1000)));
    await controller.deps.db.insertInto('apps').values({ uuid: appUuid, id: 'edgeapp', owner_id: ownerId, structure: '{}', created: now, updated: now }).execute();
    useUpstreamSource(controller.deps, async (_deps, app) => (app.id === 'edgeapp' ? upstreams : []));
    await controller.app.listen({ host: '127.0.0.1', port: 0 });
    controllerUrl = `http://127.0.0.1:${(controller.app.server.address() as AddressInfo).port}`;

    for (let which = 0; which < EDGE_NODES.length; which++) {
      dataDirs.push(mkdtempSync(join(tmpdir(), 'deis-edge-')));
      routers[which] = await startEdgeRouter(which);
    }
  });

  afterAll(async () => {
    for (const router of routers) await router?.stop().catch(() => undefined);
    for (const { index } of EDGE_NODES) await nodes[index]!.getContainer(sandboxName).remove({ force: true }).catch(() => undefined);
    await controller?.close();
    if (scheduler) {
      for (const container of await scheduler.list(labels).catch(() => [])) await scheduler.stop(container.name, 0).catch(() => undefined);
      await scheduler.close();
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const gone = await manager.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('has a task on every node and a sandbox on each edge node, on the overlay', async () => {
    const tasks = (await manager.listTasks({ filters: { label: [`edge-run=${id}`], 'desired-state': ['running'] } })) as Array<{ NodeID: string }>;
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks.map((t) => t.NodeID)).size).toBe(3);
    for (const { index } of EDGE_NODES) {
      const info = (await nodes[index]!.getContainer(sandboxName).inspect()) as {
        State: { Running: boolean };
        NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
        Config: { Labels: Record<string, string> };
        HostConfig: { PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> };
      };
      expect(info.State.Running).toBe(true);
      expect(info.HostConfig.PortBindings[`${httpPort}/tcp`]).toEqual([{ HostIp: index === 2 ? '100.124.0.13' : '', HostPort: String(httpPort) }]);
      expect(info.HostConfig.PortBindings[`${httpsPort}/tcp`]).toEqual([{ HostIp: index === 2 ? '100.124.0.13' : '', HostPort: String(httpsPort) }]);
      expect(info.NetworkSettings.Networks[platformName]?.IPAddress).toMatch(/^100\.125\.20\./);
      expect(info.Config.Labels['io.deis.platform']).toBe(platformName);
    }
  });

  it('sends the client\'s requests through either node to every task, in turn, keeping the client\'s address', async () => {
    await applied();
    for (const { address } of EDGE_NODES) {
      const answers = await fromClient(address, httpPort, appHost, 12);
      expect(answers.filter((a) => a.status !== 200), address).toEqual([]);
      expect(new Set(answers.map((a) => a.name)), address).toEqual(new Set(names));
      // Round robin: each task gets its share, give or take the two workers' different starting points.
      for (const name of names) expect(answers.filter((a) => a.name === name).length, `${address} ${name}`).toBeGreaterThanOrEqual(2);
      expect(new Set(answers.map((a) => a.forwardedFor))).toEqual(new Set(['100.124.0.1']));
      // HTTPS on the other published port (the default certificate: the app has none of its own).
      const overTls = await fromClient(address, httpsPort, appHost, 3, true);
      expect(overTls.map((a) => a.status), address).toEqual([200, 200, 200]);
      // Unknown host names get the default server's 404, from nginx in the sandbox.
      expect((await fromClient(address, httpPort, `nobody.${id}.test`, 1))[0]?.status).toBe(404);
    }
    // This test's controller listens on the host's loopback, which the sandboxes cannot reach: the operator is told.
    expect(errors.map((e) => e.message).join('\n')).toMatch(/the controller's address 127\.0\.0\.1:\d+ is a loopback address, which nginx in the edge sandbox cannot reach/);
  });

  it('follows a task leaving the table without reloading nginx', async () => {
    const before = dataDirs.map(nginxProcesses);
    const [leaving, ...staying] = names;
    // Requests all along, as during a deploy: the task leaves the table first and stops only after that.
    const load = await Promise.all(EDGE_NODES.map(({ address }) => loadFromClient(address, httpPort, appHost)));
    upstreams = (await scheduler.list(labels)).filter((c) => c.name !== leaving).map((c) => c.address!);
    await applied();
    await scheduler.stop(leaving!, 0);
    const during = (await Promise.all(load.map((l) => l.stop()))).flat();
    expect(during.filter((a) => a.status !== 200)).toEqual([]);
    expect(during.length).toBeGreaterThan(20);
    for (const { address } of EDGE_NODES) {
      const answers = await fromClient(address, httpPort, appHost, 8);
      expect(answers.filter((a) => a.status !== 200), address).toEqual([]);
      expect(new Set(answers.map((a) => a.name)), address).toEqual(new Set(staying));
    }
    expect(dataDirs.map(nginxProcesses)).toEqual(before);
  });

  it('reloads nginx inside the sandbox for a new host name, and serves it', async () => {
    const before = dataDirs.map(nginxProcesses);
    const now = storeTime(new Date((clock += 1000)));
    await controller.deps.db.insertInto('domains').values({ uuid: randomUUID(), app_uuid: appUuid, owner_id: ownerId, domain: `www.${appHost}`, cert_id: null, created: now, updated: now }).execute();
    await applied();
    for (const [which, { address }] of EDGE_NODES.entries()) {
      const answers = await fromClient(address, httpPort, `www.${appHost}`, 4);
      expect(answers.map((a) => a.status), address).toEqual([200, 200, 200, 200]);
      const after = nginxProcesses(dataDirs[which]!);
      expect(after.master).toBe(before[which]!.master);
      expect(after.workers).not.toEqual(before[which]!.workers);
    }
    // An operator's `nginx -s reload`, from the host's own namespace, reaches the master by its pid file all the same.
    const dir = dataDirs[0]!;
    const before2 = nginxProcesses(dir);
    await promisify(execFile)('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-s', 'reload']);
    await eventually(() => nginxProcesses(dir).workers, (workers) => workers.length === 2 && workers.every((pid) => !before2.workers.includes(pid)), 10_000);
    const answers = await fromClient(EDGE_NODES[0]!.address, httpPort, `www.${appHost}`, 4);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
  });

  it('starts nginx again in a new sandbox when its sandbox is removed, and in the old one started again when it is killed', async () => {
    const removedAt = Date.now();
    const oldId = await sandboxId(0);
    await nodes[EDGE_NODES[0]!.index]!.getContainer(sandboxName).remove({ force: true });
    await eventually(() => fromClient(EDGE_NODES[0]!.address, httpPort, appHost, 1), (answers) => answers[0]?.status === 200, 30_000);
    console.log(`a removed edge sandbox was replaced and served again ${((Date.now() - removedAt) / 1000).toFixed(1)} s later`);
    expect(await sandboxId(0)).not.toBe(oldId);

    const killedAt = Date.now();
    const keptId = await sandboxId(1);
    await nodes[EDGE_NODES[1]!.index]!.getContainer(sandboxName).kill();
    await eventually(
      async () => ((await nodes[EDGE_NODES[1]!.index]!.getContainer(sandboxName).inspect()) as { State: { StartedAt: string; Running: boolean } }).State,
      (state) => state.Running && Date.parse(state.StartedAt) >= killedAt - 1000,
      30_000,
    );
    await eventually(() => fromClient(EDGE_NODES[1]!.address, httpPort, appHost, 1), (answers) => answers[0]?.status === 200, 30_000);
    console.log(`a killed edge sandbox was started again and served ${((Date.now() - killedAt) / 1000).toFixed(1)} s later`);
    expect(await sandboxId(1)).toBe(keptId);

    // Both serve every task left, with their peers written into the new nginx's zone.
    for (const { address } of EDGE_NODES) {
      const answers = await fromClient(address, httpPort, appHost, 6);
      expect(answers.filter((a) => a.status !== 200), address).toEqual([]);
      expect(new Set(answers.map((a) => a.name)).size, address).toBe(2);
    }
  });

  it('keeps the sandbox when the router stops, and a router started again adopts it', async () => {
    const kept = await sandboxId(0);
    const { master } = nginxProcesses(dataDirs[0]!);
    await routers[0]!.stop();
    routers[0] = null;
    await eventually(() => { try { process.kill(master, 0); return true; } catch { return false; } }, (alive) => !alive, 10_000);
    expect(await sandboxId(0)).toBe(kept);
    expect((await fromClient(EDGE_NODES[0]!.address, httpPort, appHost, 1))[0]?.status).not.toBe(200);

    routers[0] = await startEdgeRouter(0);
    expect(await sandboxId(0)).toBe(kept);
    const answers = await fromClient(EDGE_NODES[0]!.address, httpPort, appHost, 6);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(answers.map((a) => a.name)).size).toBe(2);
  });

  it('runs as the platform\'s router role, in edge mode when DEIS_ROUTER_EDGE_ENGINE names the node\'s engine', async () => {
    expect(existsSync(PLATFORM_JS), `${PLATFORM_JS} (npm run build)`).toBe(true);
    const kept = await sandboxId(0);
    await routers[0]!.stop();
    routers[0] = null;
    const dataDir = mkdtempSync(join(tmpdir(), 'deis-edge-role-'));
    dataDirs.push(dataDir);
    const role = spawn(process.execPath, [PLATFORM_JS, 'router'], {
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        DEIS_DATA_DIR: dataDir,
        DEIS_PLATFORM_NAME: platformName,
        DEIS_NETWORK: platformName,
        DEIS_ROUTER_HTTP_PORT: String(httpPort),
        DEIS_ROUTER_HTTPS_PORT: String(httpsPort),
        DEIS_CONTROLLER_URL: controllerUrl,
        DEIS_BUILDER_KEY: BUILDER_KEY,
        DEIS_ROUTER_EDGE_ENGINE: `unix://${sockets[EDGE_NODES[0]!.index]}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    role.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    role.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => role.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => output, (text) => /\bready\b/.test(text) || role.exitCode !== null, 30_000);
      expect(role.exitCode, output).toBeNull();
      expect(output).toContain('in its edge sandbox on network');
      // The role's sandbox is the one the other router made: same platform, ports and network.
      expect(await sandboxId(0)).toBe(kept);
      const answers = await fromClient(EDGE_NODES[0]!.address, httpPort, appHost, 6);
      expect(answers.filter((a) => a.status !== 200), output).toEqual([]);
      expect(new Set(answers.map((a) => a.name)).size).toBe(2);
    } finally {
      role.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
    expect(await sandboxId(0)).toBe(kept);
  });
});
