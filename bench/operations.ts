/**
 * Operating apps day to day, on the real engine, one platform instance started for the run (`npx tsx
 * bench/operations.ts`, after `npm run build`):
 *   (a) the controller's CPU while it probes 200 containers (liveness httpGet every second: 200 checks a second; then
 *       with readiness tcpSocket too: 400), against the same 200 containers without probes, in the same run. All roles run
 *       in the platform's one process (ADR 0005), so its CPU, read from /proc, is the controller's and then some;
 *   (b) failed requests under constant load (a connection per request) during 10 restarts (`deis ps:restart`), one
 *       liveness replacement (a container whose /health starts failing), one crash restarted in place, and a scale
 *       from 5 to 1.
 * `BENCH_ONLY=a` or `=b` measures one of them. Load goes only to 127.0.0.1 (the router), bounded in count and time.
 * Targets (issue 11): (a) under 10 % of one core; (b) 0 failed requests.
 * @module
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '@deis/sdk/types';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { runProgram } from '../test/e2e/drivers/processes.ts';
import { constantLoad } from './constant-load.ts';
import { ok, printMachine, startBenchPlatform } from './push-harness.ts';
import type { BenchPlatform } from './push-harness.ts';

const ONLY = new Set((process.env.BENCH_ONLY ?? 'ab').toLowerCase());
const PROBED = Number(process.env.BENCH_PROBED ?? 200);
/** How long the CPU is sampled, each time. */
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 30_000);
/** The tiniest server at hand: busybox's httpd on the platform's own base image, about 0.5 MiB a container. */
const TINY_IMAGE = `deis-bench-httpd:${process.pid}`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The platform's process: the one running platform.js with this instance's name in its environment. */
function platformPid(name: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (cmdline.includes('platform.js') && environ.includes(`DEIS_PLATFORM_NAME=${name}`)) return Number(entry);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  throw new Error(`no process of platform ${name}`);
}

/** User plus system CPU seconds the process has used (clock ticks of 1/100 s, as Linux gives them to user space). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The process's CPU over `ms`, as a percentage of one core. */
async function cpuPercent(pid: number, ms: number): Promise<number> {
  const before = cpuSeconds(pid);
  const started = process.hrtime.bigint();
  await sleep(ms);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  return ((cpuSeconds(pid) - before) / wall) * 100;
}

function pods(bench: BenchPlatform, app: string): () => Promise<Pod[]> {
  return async () => {
    const { token } = JSON.parse(readFileSync(join(bench.user.home, '.deis', 'client.json'), 'utf8')) as { token: string };
    const response = await fetch(`${bench.platform.controllerUrl}/v2/apps/${app}/pods/`, { headers: { authorization: `token ${token}` } });
    return ((await response.json()) as { results: Pod[] }).results;
  };
}

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

async function buildTinyImage(): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'deis-bench-httpd-'));
  try {
    writeFileSync(
      join(context, 'Dockerfile'),
      'FROM deis/base:busybox\nRUN mkdir -p /www && echo ok > /www/index.html\nEXPOSE 5000\nCMD ["busybox", "httpd", "-f", "-vv", "-p", "5000", "-h", "/www"]\n',
    );
    ok(await runProgram('docker', ['build', '-q', '-t', TINY_IMAGE, context]), 'docker build');
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** Scales `type` to `count` in steps, so no one request waits for hundreds of starts. */
async function scaleTo(bench: BenchPlatform, app: string, type: string, count: number, step = 50): Promise<void> {
  const list = pods(bench, app);
  const now = (await list()).filter((p) => p.type === type).length;
  for (let target = now; target !== count; ) {
    target = count > target ? Math.min(count, target + step) : count;
    ok(await bench.user.deis(['scale', `${type}=${target}`, '-a', app]), `scale ${type}=${target}`);
  }
  await until(list, (all) => all.filter((p) => p.type === type && p.state === 'up').length === count && all.length === count, 300_000, `${count} ${type} containers up`);
}

async function measureProbingCpu(bench: BenchPlatform): Promise<void> {
  const { user, platform } = bench;
  const app = `probed-${Math.random().toString(36).slice(2, 6)}`;
  await buildTinyImage();
  try {
    ok(await user.deis(['create', app, '--no-remote']), 'create');
    ok(await user.deis(['pull', TINY_IMAGE, '-a', app]), 'pull');
    const pid = platformPid(platform.name);

    await scaleTo(bench, app, 'cmd', PROBED);
    // Let the starts' events, listings and router updates die down.
    await sleep(10_000);
    const baseline = await cpuPercent(pid, SAMPLE_MS);

    const timing = ['--period-seconds=1', '--timeout-seconds=1', '--initial-delay-timeout=0'];
    // Each healthcheck change is a release that replaces every container; scaled to 0 first, the platform network's
    // /24 never holds 400 at once.
    const measureWith = async (healthcheck: string[]) => {
      await scaleTo(bench, app, 'cmd', 0);
      ok(await user.deis(['healthchecks:set', ...healthcheck, ...timing, '--type=cmd', '-a', app]), `healthchecks:set ${healthcheck[0]}`);
      await scaleTo(bench, app, 'cmd', PROBED);
      await sleep(10_000);
      return cpuPercent(pid, SAMPLE_MS);
    };
    const liveness = await measureWith(['liveness', 'httpGet', '5000', '--path=/']);
    const probing = await measureWith(['readiness', 'tcpSocket', '5000']);
    // The liveness GETs one container's httpd logs, over 10 s.
    const logged = (name: string) => runProgram('docker', ['logs', name]).then((r) => (r.stdout + r.stderr).split('\n').filter((l) => l.includes('url:/')).length);
    const [later] = await pods(bench, app)();
    const requestsLater = await logged(later!.name);
    await sleep(10_000);
    const probesPerSecond = ((await logged(later!.name)) - requestsLater) / 10;
    const replaced = (await pods(bench, app)()).filter((p) => p.state === 'up').length;

    const vs = (value: number) => `${value.toFixed(1)} % of one core (target < 10 %), +${(value - baseline).toFixed(1)} points, ${(value / baseline).toFixed(2)}× the baseline`;
    console.log(`(a) platform process CPU with ${PROBED} running containers, ${SAMPLE_MS / 1000} s each:`);
    console.log(`    without probes ${baseline.toFixed(1)} % of one core (baseline)`);
    console.log(`    liveness httpGet every 1 s (${PROBED} checks/s) ${vs(liveness)}`);
    console.log(`    liveness httpGet + readiness tcpSocket every 1 s (${2 * PROBED} checks/s) ${vs(probing)}`);
    console.log(`    one container's liveness GETs seen in its log: ${probesPerSecond.toFixed(2)}/s (expected 1/s); ${replaced}/${PROBED} containers still up`);
    await scaleTo(bench, app, 'cmd', 0);
  } finally {
    await user.deis(['apps:destroy', `--app=${app}`, `--confirm=${app}`]);
    await runProgram('docker', ['rmi', TINY_IMAGE]);
  }
}

async function measureFailedRequests(bench: BenchPlatform): Promise<void> {
  const { user, platform } = bench;
  const app = `ops-${Math.random().toString(36).slice(2, 6)}`;
  const repo = await bench.newApp('node-health', app);
  const pushed = Date.now();
  ok(await repo.git(['push', 'deis', 'main']), 'push');
  await bench.until200(app, 'Served by', pushed);
  ok(await user.deis(['scale', 'web=5', '-a', app]), 'scale web=5');
  const timing = ['--period-seconds=1', '--failure-threshold=3', '--timeout-seconds=1', '--initial-delay-timeout=0'];
  ok(await user.deis(['healthchecks:set', 'liveness', 'httpGet', '5000', '--path=/health', ...timing, '-a', app]), 'healthchecks:set');
  const list = pods(bench, app);
  await until(list, (all) => all.length === 5 && all.every((p) => p.state === 'up'), 120_000, 'five web containers');
  const host = `${app}.${platform.domain}`;

  const phase = async (what: string, act: () => Promise<void>) => {
    const load = constantLoad(platform.routerPort, host, 8, 1_000_000, false);
    const started = Date.now();
    await act();
    const { sent, failed, reasons } = await load.stop();
    console.log(`    ${what}: ${failed} failed of ${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s${failed ? `: ${reasons}` : ''}`);
  };

  console.log('(b) failed requests under constant load (8 clients, a connection per request; target 0):');
  await phase('10 restarts (ps:restart of all 5 containers)', async () => {
    for (let i = 0; i < 10; i += 1) ok(await user.deis(['ps:restart', '-a', app]), 'ps:restart');
  });
  await phase('a liveness replacement (one of 5 containers fails /health, its port open)', async () => {
    const before = new Set((await list()).map((p) => p.name));
    const sickened = await viaRouter(platform.routerPort, host, '/sicken');
    if (sickened.status !== 200) throw new Error(`/sicken answered ${sickened.status}`);
    const sickAt = Date.now();
    await until(list, (all) => all.length === 5 && all.every((p) => p.state === 'up') && all.filter((p) => !before.has(p.name)).length === 1, 60_000, 'the liveness replacement');
    console.log(`    (replaced ${((Date.now() - sickAt) / 1000).toFixed(1)} s after /health began failing; period 1 s × threshold 3)`);
  });
  await phase('a crash (one of 5 containers exits, restarted in place after 1 s)', async () => {
    const exiting = await viaRouter(platform.routerPort, host, '/exit');
    if (exiting.status !== 200) throw new Error(`/exit answered ${exiting.status}`);
    await until(list, (all) => all.some((p) => p.state === 'crashed'), 10_000, 'the crash');
    await until(list, (all) => all.length === 5 && all.every((p) => p.state === 'up') && all.some((p) => p.restarts === 1), 30_000, 'the restart');
  });
  await phase('scale 5 → 1', async () => {
    ok(await user.deis(['scale', 'web=1', '-a', app]), 'scale web=1');
    await until(list, (all) => all.length === 1, 60_000, 'one container');
  });
}

async function main(): Promise<void> {
  await printMachine(1);
  const limits = String(PROBED + 10);
  const bench = await startBenchPlatform({ DEIS_LIMIT_SCALE_PER_TYPE: limits, DEIS_LIMIT_CONTAINERS_PER_APP: limits, DEIS_LIMIT_CONTAINERS_PER_USER: String(PROBED + 50) });
  try {
    if (ONLY.has('a')) await measureProbingCpu(bench);
    if (ONLY.has('b')) await measureFailedRequests(bench);
  } finally {
    await bench.platform.stop();
  }
}

await main();
