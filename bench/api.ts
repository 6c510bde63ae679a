/**
 * The controller API's latency on a full store (`npx tsx bench/api.ts`): a SQLite file with 10,000 apps (100 owners,
 * each with the rows `apps:create` makes) and one app with 1,000 releases. Requests go through `app.inject` on the
 * real app with the fake scheduler, so the figures are the controller's own (routing, auth, SQL, serialization)
 * without a network. A baseline (`GET /healthz`) is measured in the same run. Prints p50/p99 per request and the
 * machine's details. Target: p99 under 20 ms.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release as kernelRelease, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeScheduler } from '@deis/scheduler/fake/fake-scheduler';
import { buildControllerApp } from '@deis/controller/app';
import { storeTime } from '@deis/controller/clock';
import { openDatabase } from '@deis/controller/db/database';
import type { ControllerDeps } from '@deis/controller/deps';
import { AppLogBuffer } from '@deis/controller/logs/log-buffer';
import { RoutingState } from '@deis/controller/routing/routing-state';
import { DEFAULT_LIMITS } from '@deis/controller/settings';
import type { ControllerSettings } from '@deis/controller/settings';
import { insertUser } from '@deis/controller/users/user-store';

const APPS = 10_000;
const OWNERS = 100;
const RELEASES = 1_000;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1000);
const WARMUP = 100;
const TARGET_P99_MS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const EMPTY = JSON.stringify({});

/** Writes apps as `apps:create` leaves them (config, release v1, settings, TLS, default domain), in large batches. */
async function fillApps(deps: ControllerDeps, ownerIds: number[]): Promise<void> {
  const batch = 500;
  for (let start = 0; start < APPS; start += batch) {
    await deps.db.transaction().execute(async (trx) => {
      const now = storeTime();
      const apps = [];
      const configs = [];
      const releases = [];
      const settings = [];
      const tls = [];
      const domains = [];
      for (let i = start; i < Math.min(APPS, start + batch); i++) {
        const uuid = randomUUID();
        const id = `app-${String(i).padStart(5, '0')}`;
        const owner = ownerIds[i % ownerIds.length]!;
        const configUuid = randomUUID();
        apps.push({ uuid, id, owner_id: owner, structure: EMPTY, created: now, updated: now });
        configs.push({ uuid: configUuid, app_uuid: uuid, owner_id: owner, values: EMPTY, memory: EMPTY, cpu: EMPTY, tags: EMPTY, registry: EMPTY, healthcheck: EMPTY, created: now, updated: now });
        releases.push({ uuid: randomUUID(), app_uuid: uuid, owner_id: owner, version: 1, summary: 'created initial release', failed: 0, config_uuid: configUuid, build_uuid: null, exception: null, created: now, updated: now });
        settings.push({ uuid: randomUUID(), app_uuid: uuid, owner_id: owner, maintenance: 0, routable: 1, whitelist: '[]', autoscale: EMPTY, label: EMPTY, created: now, updated: now });
        tls.push({ uuid: randomUUID(), app_uuid: uuid, owner_id: owner, https_enforced: null, created: now, updated: now });
        domains.push({ uuid: randomUUID(), app_uuid: uuid, owner_id: owner, domain: id, cert_id: null, created: now, updated: now });
      }
      await trx.insertInto('apps').values(apps).execute();
      await trx.insertInto('configs').values(configs).execute();
      await trx.insertInto('releases').values(releases).execute();
      await trx.insertInto('app_settings').values(settings).execute();
      await trx.insertInto('tls').values(tls).execute();
      await trx.insertInto('domains').values(domains).execute();
    });
  }
}

interface Figure {
  name: string;
  p50: number;
  p99: number;
  max: number;
  /** Mean CPU time of this process per request: unlike wall time, untouched by other work on the host. */
  cpu: number;
}

async function measure(name: string, iterations: number, run: (i: number) => Promise<number>): Promise<Figure> {
  for (let i = 0; i < WARMUP; i++) await run(-1 - i);
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const started = process.hrtime.bigint();
    const status = await run(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (status >= 400) throw new Error(`${name}: status ${status}`);
  }
  const cpuUsed = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1]!, cpu: (cpuUsed.user + cpuUsed.system) / 1000 / iterations };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deis-bench-api-'));
  const opened = await openDatabase(join(dir, 'controller.sqlite'));
  const settings: ControllerSettings = {
    host: '127.0.0.1',
    port: 0,
    databaseUrl: join(dir, 'controller.sqlite'),
    builderKey: 'bench-builder-key-0123456789',
    limits: DEFAULT_LIMITS,
    registrationMode: 'admin_only',
    platformDomain: 'bench.test',
    deployHookUrls: [],
    deployHookSecret: null,
    deployTimeoutMs: 5_000,
    gracePeriodSeconds: 0,
    platformName: 'bench',
    procfileMissingRemove: true,
    rejectIfProcfileMissing: false,
    nodeLabels: {},
    logLevel: 'silent',
  };
  const scheduler = new FakeScheduler();
  const deps: ControllerDeps = { db: opened.db, dialect: opened.dialect, scheduler, settings, routing: new RoutingState(), logs: new AppLogBuffer({ dir: null }) };
  const app = await buildControllerApp(deps);
  try {
    const filling = Date.now();
    const admin = await insertUser(deps.db, { username: 'admin', password: 'bench-password', isSuperuser: true });
    const owners = [];
    for (let i = 0; i < OWNERS; i++) owners.push(await insertUser(deps.db, { username: `user${i}`, password: 'bench-password' }));
    await fillApps(deps, owners.map((o) => o.row.id));
    const auth = { authorization: `token ${admin.token}` };
    const userAuth = { authorization: `token ${owners[0]!.token}` };

    // The app with a long history goes through the API, as users make it.
    const inject = async (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) =>
      (await app.inject({ method, url, headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })).statusCode;
    if ((await inject('POST', '/v2/apps/', auth, { id: 'big' })) !== 201) throw new Error('could not create the app "big"');
    scheduler.defineImage('bench/web:1', [5000]);
    if ((await inject('POST', '/v2/apps/big/builds/', auth, { image: 'bench/web:1' })) !== 201) throw new Error('could not build "big"');
    for (let v = 3; v <= RELEASES; v++) {
      const status = await inject('POST', '/v2/apps/big/config/', auth, { values: { VERSION: String(v) } });
      if (status !== 201) throw new Error(`config change ${v}: status ${status}`);
    }
    await inject('POST', '/v2/apps/', auth, { id: 'fresh' });
    const fillSeconds = (Date.now() - filling) / 1000;

    const figures: Figure[] = [];
    figures.push(await measure('GET /healthz (baseline)', ITERATIONS, () => inject('GET', '/healthz', {})));
    figures.push(await measure('GET /v2/apps/ (admin, 10,000 apps)', ITERATIONS, () => inject('GET', '/v2/apps/', auth)));
    figures.push(await measure('GET /v2/apps/ (owner of 100)', ITERATIONS, () => inject('GET', '/v2/apps/', userAuth)));
    figures.push(await measure('GET /v2/apps/big/config/', ITERATIONS, () => inject('GET', '/v2/apps/big/config/', auth)));
    figures.push(await measure('GET /v2/apps/big/releases/', ITERATIONS, () => inject('GET', '/v2/apps/big/releases/', auth)));
    figures.push(await measure('POST config: release, no build (app "fresh")', ITERATIONS, (i) => inject('POST', '/v2/apps/fresh/config/', auth, { values: { N: String(i) } })));
    figures.push(await measure('POST config: release + deploy, 1,000+ releases', Math.min(ITERATIONS, 300), (i) => inject('POST', '/v2/apps/big/config/', auth, { values: { N: String(i) } })));

    const cpu = cpus();
    console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${kernelRelease()}, Node ${process.version}`);
    // Other work on the host shows in every p99, the baseline's included: read the figures against it.
    console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1, 5, 15 min)`);
    console.log(`store: SQLite file (WAL), ${APPS.toLocaleString('en')} apps of ${OWNERS} owners + "big" with ${RELEASES.toLocaleString('en')} releases, filled in ${fillSeconds.toFixed(1)} s`);
    console.log(`each figure: ${ITERATIONS} requests after ${WARMUP} warm-up (release + deploy: ${Math.min(ITERATIONS, 300)}), one at a time through app.inject\n`);
    const width = Math.max(...figures.map((f) => f.name.length));
    console.log(`${'request'.padEnd(width)}   p50 ms   p99 ms   max ms   CPU ms/request`);
    for (const f of figures) {
      console.log(
        `${f.name.padEnd(width)} ${f.p50.toFixed(2).padStart(8)} ${f.p99.toFixed(2).padStart(8)} ${f.max.toFixed(2).padStart(8)} ${f.cpu.toFixed(2).padStart(16)}${f.p99 > TARGET_P99_MS ? '   over the 20 ms target' : ''}`,
      );
    }
  } finally {
    await app.close();
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
