/**
 * The formation on the real Docker engine: deploys that keep serving while they switch, a deploy that fails with the
 * app's own words, scaling, restarts, one-off runs, logs and the reconciler bringing back a killed container.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import type Docker from 'dockerode';
import DockerClient from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '@deis/sdk/types';
import { createScheduler } from '@deis/scheduler/create-scheduler';
import { buildContractImage } from '@deis/scheduler/docker/contract-app-image';
import type { DockerScheduler } from '@deis/scheduler/docker/docker-scheduler';
import { removeLinkLocalBlock } from '@deis/scheduler/docker/link-local-firewall';
import { removePlatformNetwork } from '@deis/scheduler/docker/platform-network';
import { buildControllerApp } from '../app.ts';
import type { ControllerApp } from '../app.ts';
import { openDatabase } from '../db/database.ts';
import type { OpenedDatabase } from '../db/database.ts';
import type { ControllerDeps } from '../deps.ts';
import { AppLogBuffer } from '../logs/log-buffer.ts';
import { startLogIngester } from '../logs/log-ingester.ts';
import type { LogIngester } from '../logs/log-ingester.ts';
import { RoutingState } from '../routing/routing-state.ts';
import { DEFAULT_LIMITS } from '../settings.ts';
import { insertUser } from '../users/user-store.ts';
import { startReconciler } from './reconciler.ts';
import type { Reconciler } from './reconciler.ts';
import { appUpstreams } from './upstreams.ts';

const docker: Docker = new DockerClient();
const id = randomBytes(4).toString('hex');
const platformName = `deis-test-formation-${id}`;
const subnet = `100.${randomInt(96, 128)}.${randomInt(0, 256)}.0/24`;
const image = `deis-test/formation:${id}`;

let scheduler: DockerScheduler;
let opened: OpenedDatabase;
let deps: ControllerDeps;
let app: ControllerApp;
let token: string;
let reconciler: Reconciler | null = null;
let routerStandIn: ReturnType<typeof setInterval> | undefined;
let ingester: LogIngester | undefined;

async function call(method: 'GET' | 'POST', url: string, body?: unknown) {
  const response = await app.inject({
    method,
    url,
    headers: { authorization: `token ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  let json: unknown;
  try {
    json = response.body ? JSON.parse(response.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, body: response.body, json };
}

async function fetchOk(host: string, port: number): Promise<string> {
  const response = await fetch(`http://${host}:${port}/ok`, { signal: AbortSignal.timeout(2000) });
  return response.text();
}

async function pods(): Promise<Pod[]> {
  return ((await call('GET', '/v2/apps/demo/pods/')).json as { results: Pod[] }).results;
}

beforeAll(async () => {
  scheduler = (await createScheduler({ kind: 'docker', platformName, networkName: platformName, networkSubnet: subnet, containerKey: randomBytes(16).toString('hex') })) as DockerScheduler;
  await buildContractImage(docker, image);
  opened = await openDatabase(':memory:');
  deps = {
    db: opened.db,
    dialect: opened.dialect,
    scheduler,
    routing: new RoutingState(),
    logs: new AppLogBuffer({ dir: null }),
    settings: {
      host: '127.0.0.1', port: 0, databaseUrl: ':memory:', builderKey: 'formation-docker-test-key', registrationMode: 'enabled',
      platformDomain: 'example.test', deployHookUrls: [], deployHookSecret: null, deployTimeoutMs: 30_000, gracePeriodSeconds: 5,
      platformName, procfileMissingRemove: true, rejectIfProcfileMissing: false, nodeLabels: {}, logLevel: 'silent', limits: DEFAULT_LIMITS,
    },
  };
  app = await buildControllerApp(deps);
  ingester = startLogIngester(scheduler, deps.logs, platformName);
  token = (await insertUser(opened.db, { username: 'alice', password: 'password', isSuperuser: true })).token;
  expect((await call('POST', '/v2/apps/', { id: 'demo' })).status).toBe(201);
  expect((await call('POST', '/v2/apps/demo/config/', { values: { CONTRACT_PRINT: 'hello from demo' } })).status).toBe(201);
});

afterAll(async () => {
  clearInterval(routerStandIn);
  ingester?.stop();
  await reconciler?.stop();
  scheduler?.close();
  for (const container of await docker.listContainers({ all: true, filters: { label: [`io.deis.platform=${platformName}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await removePlatformNetwork(docker, platformName).catch(() => undefined);
  await removeLinkLocalBlock(platformName, subnet).catch(() => undefined);
  await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  await app?.close();
  await opened?.close();
});

describe('the formation on Docker', () => {
  it('deploys an image as a cmd container on its EXPOSEd port, reachable on the platform network', async () => {
    const response = await call('POST', '/v2/apps/demo/builds/', { image });
    expect(response.status, response.body).toBe(201);
    const listed = await pods();
    expect(listed.map((pod) => [pod.type, pod.state, pod.release])).toEqual([['cmd', 'up', 'v3']]);
    const upstreams = await appUpstreams(deps, { id: 'demo' });
    expect(upstreams).toHaveLength(1);
    expect(upstreams[0]!.port).toBe(5000);
    expect(await fetchOk(upstreams[0]!.host, upstreams[0]!.port)).toBe('ok');
  });

  it('keeps serving every request while a new release replaces the containers', async () => {
    let stop = false;
    const failures: string[] = [];
    const hosts = new Set<string>();
    const answered = new Set<string>();
    // Plays the router: it takes the upstreams of a generation and reports that generation applied once it uses them.
    const poller = (async () => {
      while (!stop) {
        const generation = deps.routing.generation;
        const upstreams = await appUpstreams(deps, { id: 'demo' });
        for (const upstream of upstreams) {
          hosts.add(upstream.host);
          try {
            if ((await fetchOk(upstream.host, upstream.port)) === 'ok') answered.add(upstream.host);
            else failures.push('bad body');
          } catch (error) {
            failures.push(String(error));
          }
        }
        if (upstreams.length === 0) failures.push('no upstreams');
        deps.routing.markApplied(generation);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const response = await call('POST', '/v2/apps/demo/config/', { values: { RELEASE_MARK: 'two' } });
    stop = true;
    await poller;
    expect(response.status, response.body).toBe(201);
    expect(failures).toEqual([]);
    // The old container until the switch, the new one from it: however quick the deploy, both served requests.
    expect(hosts.size).toBe(2);
    expect(answered).toEqual(hosts);
    expect((await pods()).map((pod) => pod.release)).toEqual(['v4']);
    // From here on a router that applies every generation at once stands in for the poller.
    routerStandIn = setInterval(() => deps.routing.markApplied(deps.routing.generation), 20);
  });

  it('fails a deploy whose container exits, with its last output, and keeps the old release serving', async () => {
    const before = await pods();
    const response = await call('POST', '/v2/apps/demo/config/', { values: { CONTRACT_EXIT: '1', CONTRACT_STDERR: 'cannot start: DATABASE_URL is missing' } });
    expect(response.status).toBe(400);
    expect((response.json as { detail: string }).detail).toContain('cannot start: DATABASE_URL is missing');
    expect(await pods()).toEqual(before);
    const [upstream] = await appUpstreams(deps, { id: 'demo' });
    expect(await fetchOk(upstream!.host, upstream!.port)).toBe('ok');
    const releases = (await call('GET', '/v2/apps/demo/releases/')).json as { results: Array<{ version: number; failed: boolean }> };
    expect(releases.results[0]).toMatchObject({ version: 5, failed: true });
  });

  it('scales, restarts, runs one-off commands and shows the app log', async () => {
    expect((await call('POST', '/v2/apps/demo/scale/', { cmd: 2 })).status).toBe(204);
    const upstreams = await appUpstreams(deps, { id: 'demo' });
    expect(upstreams).toHaveLength(2);
    for (const upstream of upstreams) expect(await fetchOk(upstream.host, upstream.port)).toBe('ok');
    const old = (await pods()).map((pod) => pod.name);
    const restarted = await call('POST', '/v2/apps/demo/pods/cmd/restart/');
    expect(restarted.status).toBe(200);
    const fresh = (restarted.json as Pod[]).map((pod) => pod.name);
    expect(fresh).toHaveLength(2);
    expect(fresh.some((name) => old.includes(name))).toBe(false);
    expect((await pods()).map((pod) => pod.name).sort()).toEqual([...fresh].sort());
    const run = await call('POST', '/v2/apps/demo/run', { command: 'echo "$DEIS_APP says $RELEASE_MARK"; exit 3' });
    expect(run.json).toEqual({ exit_code: 3, output: 'demo says two\n' });
    const logs = await call('GET', '/v2/apps/demo/logs?log_lines=50');
    expect(logs.status).toBe(200);
    expect(logs.body).toMatch(/demo\[cmd\.v4\.[a-z0-9]{5}\]: hello from demo/);
    expect(logs.body).toContain('deis[controller]: INFO alice scaled pods cmd=2');
  });

  it("keeps only the last MiB of a one-off run that prints without end, as `deis run yes` does", async () => {
    // Lines of 1 KiB: the engine frames each line, and short ones would make this test slow, not the run's memory.
    const line = 'y'.repeat(1023);
    // Eight times the kept tail: enough to show the drop. With 40 MiB the engine's followed log once delivered more
    // bytes than were printed (46 MB), which this size has not shown.
    const printed = 8 * 1024 * 1024;
    const run = await call('POST', '/v2/apps/demo/run', { command: `yes ${line} | head -c ${printed}` });
    expect(run.status).toBe(200);
    const { exit_code, output } = run.json as { exit_code: number; output: string };
    expect(exit_code).toBe(0);
    // The tail of what the engine delivered: a followed log can end a little short of the end when the output is
    // this large (the run's own stream lags the process), but it is never more than the limit.
    const match = /^\[… (\d+) bytes of earlier output dropped …\]\n/.exec(output);
    expect(match).not.toBeNull();
    const tail = output.slice(match![0].length);
    expect(Buffer.byteLength(tail)).toBe(DEFAULT_LIMITS.runOutputBytes);
    expect(Number(match![1]) + DEFAULT_LIMITS.runOutputBytes).toBeLessThanOrEqual(printed);
    expect(Number(match![1])).toBeGreaterThan(printed / 2);
    expect(tail).toMatch(/^y*\n(y{1023}\n)+$/);
  }, 120_000);

  it('restarts a container the engine killed in place, and replaces one it lost, by the reconciler', async () => {
    reconciler = startReconciler(deps, { intervalMs: 60_000, reactAfterMs: 100 });
    await reconciler.reconcileNow();
    const [victim, other] = await pods();
    await docker.getContainer(victim!.name).kill();
    await expect
      .poll(async () => (await pods()).find((pod) => pod.name === victim!.name), { timeout: 30_000, interval: 200 })
      .toMatchObject({ state: 'up', restarts: 1 });
    expect((await pods()).filter((pod) => pod.state === 'up')).toHaveLength(2);

    await docker.getContainer(other!.name).remove({ force: true });
    await expect
      .poll(async () => (await pods()).filter((pod) => pod.state === 'up' && pod.name !== other!.name).length, { timeout: 30_000, interval: 200 })
      .toBe(2);
    await expect.poll(async () => (await scheduler.list({ 'io.deis.app': 'demo' })).map((c) => c.name), { timeout: 15_000 }).not.toContain(other!.name);
  });
});
