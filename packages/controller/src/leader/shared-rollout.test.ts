import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoutingTable } from '@deis/sdk/types';
import { appLocksOf } from '../db/app-locks.ts';
import { holdUntilReady } from '../formation/container-health.ts';
import { shareUnready } from '../formation/rollout-marks.ts';
import { whenAppIdle } from '../formation/formation-state.ts';
import { reconcileApp } from '../formation/reconciler.ts';
import { stopWatchingStillStarting } from '../formation/still-starting.ts';
import { startRoutingRelay } from '../routing/routing-relay.ts';
import type { RoutingRelay } from '../routing/routing-relay.ts';
import { startTestController, storeUrlOf } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { startLeaderLoops } from './leader-loops.ts';
import type { LeaderElection } from './leader-election.ts';

/**
 * The rollout state routing depends on, shared by two controllers on one PostgreSQL store and one engine (ADR 0021):
 * a rollout run by one controller keeps its not-ready and draining containers out of the tables of routers polling
 * the other and waits for those routers; and a deploy whose controller dies completes through the other.
 */
describe.skipIf(!process.env.DEIS_TEST_DATABASE_URL)('a rollout shared by two controllers', () => {
  let a: TestController | undefined;
  let b: TestController | undefined;
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const stop of stops.splice(0).reverse()) await stop();
    await b?.close();
    await a?.close();
    a = b = undefined;
  });

  const start = async () => {
    a = await startTestController({ deployTimeoutMs: 10_000 });
    b = await startTestController({ deployTimeoutMs: 10_000 }, { sharing: a });
    const alice = await a.user('alice');
    expect((await b.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    return { a, b, alice, url: storeUrlOf(a)! };
  };
  const relay = (controller: TestController, url: string): RoutingRelay => {
    const started = startRoutingRelay(controller.deps.routing, url);
    stops.push(() => started.stop());
    return started;
  };
  const push = (via: TestController, alice: string, image: string) =>
    via.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image, procfile: { web: 'serve' } } });
  const containers = async (controller: TestController) => (await controller.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up');
  const address = (c: { address: { host: string; port: number } | null }) => `${c.address!.host}:${c.address!.port}`;

  /** A router polling `controller`: what it would serve of the app, and its report of what it applied. */
  const routerOf = (controller: TestController) => {
    let generation = 0;
    return {
      /** The next table, once there is one newer than the last this router had (a long poll of at most `wait` s). */
      async poll(wait = 5): Promise<RoutingTable | null> {
        const answer = await controller.call('GET', `/v2/hooks/routes?after=${generation}&wait=${wait}`, { builder: true });
        if (answer.status === 204) return null;
        const table = answer.json as RoutingTable;
        generation = table.generation;
        return table;
      },
      async apply(): Promise<void> {
        expect((await controller.call('POST', '/v2/hooks/routes/applied', { builder: true, body: { generation } })).status).toBe(204);
      },
    };
  };
  const upstreamsOf = (table: RoutingTable) => (table.apps.find((r) => r.app === 'demo')?.upstreams ?? []).map((u) => `${u.host}:${u.port}`).sort();

  it("keeps a rollout's not-ready containers out of the table of routers polling the other controller, and waits for them", async () => {
    const { a, b, alice, url } = await start();
    relay(a, url);
    relay(b, url);
    expect((await push(a, alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(a.deps, 'demo');
    const [old] = await containers(a);
    // A router on b, up to date with v2 serving.
    const router = routerOf(b);
    expect(upstreamsOf((await router.poll(0))!)).toEqual([address(old!)]);
    await router.apply();
    // A controller that died with its routers' confirmation behind: not waited for (its presence lock is gone).
    await a.deps.db.insertInto('router_confirmations').values({ controller: 'dead', change: 0, seen: Date.now() }).execute();

    // The next deploy, through a, hangs in its new container's readiness check until let go.
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const waitReady = a.scheduler.waitReady.bind(a.scheduler);
    vi.spyOn(a.scheduler, 'waitReady').mockImplementation(async (name, check, timeout) => {
      if (a.scheduler.specs().find((s) => s.name === name)?.image === 'example/app:2') await gate;
      return waitReady(name, check, timeout);
    });
    let answered = false;
    const deploy = push(a, alice, 'example/app:2').then((r) => ((answered = true), r));
    await expect.poll(async () => (await containers(b)).length).toBe(2);
    const fresh = (await containers(b)).find((c) => c.name !== old!.name)!;
    // Running, not ready: b's table leaves it out (b never ran this rollout).
    const during = await b.call('GET', '/v2/hooks/routes?wait=0', { builder: true });
    expect(upstreamsOf(during.json as RoutingTable)).toEqual([address(old!)]);

    letGo();
    // a switched: b's router hears of it through b, gets the new container without the old one.
    let table: RoutingTable | null = null;
    await expect
      .poll(async () => {
        table = (await router.poll()) ?? table;
        return table ? upstreamsOf(table) : [];
      }, { timeout: 5_000 })
      .toEqual([address(fresh)]);
    // Until b's router says it applied that table, a waits: the push has not answered, the old container runs.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    expect((await containers(a)).map((c) => c.name)).toContain(old!.name);

    const confirmed = Date.now();
    await router.apply();
    expect((await deploy).status).toBe(201);
    // Woken by the confirmation, not by the bounded wait running out.
    expect(Date.now() - confirmed).toBeLessThan(2_000);
    await whenAppIdle(a.deps, 'demo');
    expect((await containers(a)).map((c) => c.name)).toEqual([fresh.name]);
    expect(await a.deps.db.selectFrom('rollout_marks').selectAll().execute()).toEqual([]);
  });

  it("keeps a container the health monitor holds on one controller out of the other's table until it passes", async () => {
    const { a, b, alice } = await start();
    expect((await push(a, alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(a.deps, 'demo');
    const [container] = await containers(a);
    const tableOfB = async () => upstreamsOf((await b.call('GET', '/v2/hooks/routes?wait=0', { builder: true })).json as RoutingTable);
    expect(await tableOfB()).toEqual([address(container!)]);
    await holdUntilReady(a.deps, container!.name);
    expect(await tableOfB()).toEqual([]);
    await shareUnready(a.deps, [container!.name], true);
    expect(await tableOfB()).toEqual([address(container!)]);
  });

  /** Leader loops with no loops: what matters is what a controller does on taking the lead. */
  const lead = (controller: TestController, url: string, log: string[]): LeaderElection => {
    const election = startLeaderLoops(controller.deps, { databaseUrl: url, loops: [], log: (line) => log.push(line), retryMs: 100 });
    stops.push(() => election.stop());
    return election;
  };

  /** Kills `a` mid-deploy: its hold of the app's lock and its lead go, as with its process; its hung rollout never resumes. */
  const kill = async (leader: LeaderElection, controller: TestController) => {
    appLocksOf(controller.deps.db).abandon();
    await leader.stop();
  };

  const releases = async (controller: TestController) =>
    controller.deps.db
      .selectFrom('releases')
      .innerJoin('apps', 'apps.uuid', 'releases.app_uuid')
      .select(['version', 'failed', 'deploying'])
      .where('apps.id', '=', 'demo')
      .orderBy('version')
      .execute();

  it('completes through the other controller a deploy whose controller died half way, never routing its half-started containers', async () => {
    const { a, b, alice, url } = await start();
    const log: string[] = [];
    const leaderA = lead(a, url, log);
    await expect.poll(() => leaderA.isLeader()).toBe(true);
    const leaderB = lead(b, url, log);
    expect((await push(a, alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(a.deps, 'demo');
    const [old] = await containers(a);

    // a's deploy of v3 hangs in its new container's readiness check, and never comes back: a dies there.
    const hung = new Set<string>();
    const waitReady = a.scheduler.waitReady.bind(a.scheduler);
    vi.spyOn(a.scheduler, 'waitReady').mockImplementation(async (name, check, timeout) => {
      if (hung.has(name)) return new Promise<void>(() => undefined);
      return waitReady(name, check, timeout);
    });
    const start0 = a.scheduler.start.bind(a.scheduler);
    let aDead = false;
    vi.spyOn(a.scheduler, 'start').mockImplementation(async (spec) => {
      if (!aDead && spec.image === 'example/app:2') hung.add(spec.name);
      return start0(spec);
    });
    void push(a, alice, 'example/app:2');
    await expect.poll(() => hung.size).toBe(1);
    await expect.poll(async () => (await releases(b)).at(-1)).toMatchObject({ version: 3, deploying: 1, failed: 0 });
    // b's routers would not see the half-started container.
    const table = (await b.call('GET', '/v2/hooks/routes?wait=0', { builder: true })).json as RoutingTable;
    expect(upstreamsOf(table)).toEqual([address(old!)]);

    aDead = true;
    await kill(leaderA, a);
    await expect.poll(() => leaderB.isLeader(), { timeout: 5_000 }).toBe(true);
    await expect.poll(async () => (await releases(b)).at(-1), { timeout: 10_000 }).toMatchObject({ version: 3, deploying: 0, failed: 0 });
    await whenAppIdle(b.deps, 'demo');
    const serving = await containers(b);
    expect(serving).toHaveLength(1);
    expect(serving[0]!.labels['io.deis.release']).toBe('v3');
    expect(hung.has(serving[0]!.name)).toBe(false);
    expect(log.some((line) => line.includes('resuming the interrupted deploy(s) of demo'))).toBe(true);
    expect(log.some((line) => line.includes('resumed deploy of demo completed'))).toBe(true);
    // The app's release as the API shows it through b.
    const app = (await b.call('GET', '/v2/apps/demo/releases/', { token: alice })).json as { results: Array<{ version: number }> };
    expect(app.results[0]!.version).toBe(3);
  });

  it('still fails a resumed deploy whose release truly fails, the previous release serving', async () => {
    const { a, b, alice, url } = await start();
    const log: string[] = [];
    const leaderA = lead(a, url, log);
    await expect.poll(() => leaderA.isLeader()).toBe(true);
    const leaderB = lead(b, url, log);
    expect((await push(a, alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(a.deps, 'demo');
    const [old] = await containers(a);

    // a dies while its release phase runs; the release command fails when b runs it again.
    let runs = 0;
    a.scheduler.runHandler = async () => {
      runs++;
      if (runs === 1) return new Promise(() => undefined);
      return { exitCode: 3, output: 'migration failed\n' };
    };
    void a.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:2', procfile: { web: 'serve', release: 'migrate' } } });
    await expect.poll(() => runs).toBe(1);
    await kill(leaderA, a);
    await expect.poll(() => leaderB.isLeader(), { timeout: 5_000 }).toBe(true);
    await expect.poll(async () => (await releases(b)).at(-1), { timeout: 10_000 }).toMatchObject({ version: 3, deploying: 0, failed: 1 });
    expect(runs).toBe(2);
    await whenAppIdle(b.deps, 'demo');
    expect((await containers(b)).map((c) => c.name)).toEqual([old!.name]);
  });

  it("finishes, through the other controller, the release of a build hook it is retried with: one build, one release", async () => {
    const { a, b, alice } = await start();
    expect((await push(a, alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(a.deps, 'demo');
    const [old] = await containers(a);
    const hook = { receive_user: 'alice', receive_repo: 'demo', image: 'example/app:2', sha: 'abc1234', procfile: { web: 'serve' }, dockerfile: 'true', request_id: 'push-1' };

    // a's deploy hangs in the new container's readiness check and never comes back: a dies there.
    const hung = new Set<string>();
    const waitReady = a.scheduler.waitReady.bind(a.scheduler);
    vi.spyOn(a.scheduler, 'waitReady').mockImplementation(async (name, check, timeout) => (hung.has(name) ? new Promise<void>(() => undefined) : waitReady(name, check, timeout)));
    const start0 = a.scheduler.start.bind(a.scheduler);
    let aDead = false;
    vi.spyOn(a.scheduler, 'start').mockImplementation(async (spec) => {
      if (!aDead && spec.image === 'example/app:2') hung.add(spec.name);
      return start0(spec);
    });
    void a.call('POST', '/v2/hooks/build/', { builder: true, body: hook });
    await expect.poll(() => hung.size).toBe(1);
    aDead = true;
    appLocksOf(a.deps.db).abandon();

    // The builder retries the same call on b: b finishes v3, the build a stored.
    const retried = await b.call('POST', '/v2/hooks/build/', { builder: true, body: hook });
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual({ release: { version: 3 } });
    expect((await releases(b)).map((r) => [r.version, r.failed, r.deploying])).toEqual([[1, 0, 0], [2, 0, 0], [3, 0, 0]]);
    expect(await b.deps.db.selectFrom('builds').select('image').where('request_id', '=', 'push-1').execute()).toEqual([{ image: 'example/app:2' }]);
    await whenAppIdle(b.deps, 'demo');
    const serving = await containers(b);
    expect(serving.map((c) => c.labels['io.deis.release'])).toEqual(['v3']);
    expect(serving.map((c) => c.name)).not.toContain(old!.name);
    // Once more (the builder did not hear b either): the same answer, nothing new.
    expect((await b.call('POST', '/v2/hooks/build/', { builder: true, body: hook })).json).toEqual({ release: { version: 3 } });
    expect(await releases(b)).toHaveLength(3);
  });

  it("takes over, on the leader's reconciler, the still-starting containers of a controller that died: the old ones serve until they pass", async () => {
    const a = await startTestController({ deployTimeoutMs: 500 });
    const b = await startTestController({ deployTimeoutMs: 500 }, { sharing: a });
    stops.push(() => a.close(), () => b.close());
    const alice = await a.user('alice');
    expect((await b.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    let newOnesListen = false;
    a.scheduler.behaviour = (spec) => (spec.image === 'example/app:2' ? { ready: () => newOnesListen } : {});
    expect((await push(a, alice, 'example/app:1')).status).toBe(201);
    await whenAppIdle(a.deps, 'demo');
    const [old] = await containers(a);
    // The deploy answers with its new container still starting; a probes it in the background, then dies.
    const deploy = await push(a, alice, 'example/app:2');
    expect(deploy.status).toBe(201);
    expect(JSON.stringify(deploy.headers)).toContain('not ready yet');
    await stopWatchingStillStarting(a.deps);
    appLocksOf(a.deps.db).abandon();
    const fresh = (await containers(b)).find((c) => c.name !== old!.name)!;
    const tableOfB = async () => upstreamsOf((await b.call('GET', '/v2/hooks/routes?wait=0', { builder: true })).json as RoutingTable);

    const app = await b.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'demo').executeTakeFirstOrThrow();
    await reconcileApp(b.deps, app.uuid);
    expect(await tableOfB()).toEqual([address(old!)]);
    expect((await containers(b)).map((c) => c.name).sort()).toEqual([old!.name, fresh.name].sort());

    newOnesListen = true;
    await expect.poll(tableOfB, { timeout: 10_000 }).toEqual([address(fresh)]);
    await expect.poll(async () => (await containers(b)).map((c) => c.name), { timeout: 10_000 }).toEqual([fresh.name]);
    expect(await b.deps.db.selectFrom('rollout_marks').selectAll().execute()).toEqual([]);
  });
});
