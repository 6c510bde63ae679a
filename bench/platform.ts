/**
 * The platform's deploy figures on the real engine, one instance started for the run (`npx tsx bench/platform.ts`,
 * after `npm run build`):
 *   (a) seconds from `git push` of a small Dockerfile app to its first 200 through the router, first and repeat push;
 *   (c) failed requests during 10 consecutive deploys under constant load;
 *   (d) seconds from `deis scale web=10` to ten containers answering through the router.
 * Each is a median of several runs (`BENCH_RUNS`), printed with the machine's details; `BENCH_ONLY=d` measures only
 * (d). `BENCH_BASELINE=<another checkout, built>` measures (a) of that build too, in turn with this one, and prints the
 * ratio. Load goes only to 127.0.0.1, bounded in count and time. Targets (issue 4): (a) repeat push under 3 s, (c) 0
 * failed requests, (d) under 3 s; (issue 10) (a) at most 10 % slower than the build before.
 * @module
 */
import type { AppRepo } from '../test/e2e/drivers/git.ts';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { join } from 'node:path';
import { constantLoad } from './constant-load.ts';
import { figures, median, ok, printMachine, startBenchPlatform } from './push-harness.ts';
import type { BenchPlatform } from './push-harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** The figures to measure, e.g. `BENCH_ONLY=d`; all by default. (d) needs one pushed app, so (a) then pushes it once. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'acd').toLowerCase());

interface PushFigures {
  first: number[];
  repeat: number[];
  main: { name: string; repo: AppRepo } | null;
}

/** (a) for one instance: the first push of a fresh app (`run` of them), or a repeat push of a one-line change. */
async function measurePush(bench: BenchPlatform, figures: PushFigures, kind: 'first' | 'repeat', run: number): Promise<void> {
  if (kind === 'first') {
    const name = `bench-${run}-${Math.random().toString(36).slice(2, 6)}`;
    const repo = await bench.newApp('node-hello', name);
    const started = Date.now();
    ok(await repo.git(['push', 'deis', 'main']), 'first push');
    figures.first.push(await bench.until200(name, 'Powered by', started));
    figures.main ??= { name, repo };
    return;
  }
  const main = figures.main!;
  const marker = `change-${run}-${Date.now()}`;
  await main.repo.commitFile('marker.txt', `${marker}\n`, marker);
  const started = Date.now();
  ok(await main.repo.git(['push', 'deis', 'main']), 'repeat push');
  // The marker file does not change the answer; the release number does.
  figures.repeat.push(await bench.until200(main.name, `Release v${3 + run}`, started));
}

async function main(): Promise<void> {
  await printMachine(RUNS);
  const bench = await startBenchPlatform();
  // BENCH_BASELINE=<another checkout, built>: its platform is measured for (a) in turn with this one, run by run.
  const baseline = process.env.BENCH_BASELINE ? await startBenchPlatform({}, join(process.env.BENCH_BASELINE, 'dist/platform.js')) : null;
  const { platform, user } = bench;
  try {
    const current: PushFigures = { first: [], repeat: [], main: null };
    const before: PushFigures = { first: [], repeat: [], main: null };
    for (const kind of ['first', 'repeat'] as const) {
      for (let run = 0; run < (ONLY.has('a') ? RUNS : kind === 'first' ? 1 : 0); run += 1) {
        if (baseline && ONLY.has('a')) await measurePush(baseline, before, kind, run);
        await measurePush(bench, current, kind, run);
      }
    }
    const main = current.main;
    if (ONLY.has('a')) {
      const ratio = (values: number[], base: number[]) => (baseline ? `, ${(median(values) / median(base)).toFixed(2)}× the baseline ${figures(base)}` : '');
      console.log(`(a) git push → first 200 through the router: first push ${figures(current.first)}${ratio(current.first, before.first)}`);
      console.log(`    repeat push ${figures(current.repeat)} (target < 3 s)${ratio(current.repeat, before.repeat)}`);
    }
    await baseline?.platform.stop();

    // (c) ten deploys (config changes roll new containers) under constant load, once with a new connection per
    // request and once with kept-alive connections: nginx closes idle kept-alive connections when it reloads, and a
    // client that has just sent a request on one sees a reset (Node's client, unlike browsers, does not retry it).
    const host = `${main!.name}.${platform.domain}`;
    let deployNumber = 0;
    for (const keepAlive of ONLY.has('c') ? [false, true] : []) {
      const load = constantLoad(platform.routerPort, host, 8, 200_000, keepAlive);
      const deployStarted = Date.now();
      for (let deploy = 0; deploy < 10; deploy += 1) {
        deployNumber += 1;
        ok(await user.deis(['config:set', `BENCH_DEPLOY=${deployNumber}`, '-a', main!.name]), 'config:set');
      }
      const { sent, failed, reasons } = await load.stop();
      const seconds = ((Date.now() - deployStarted) / 1000).toFixed(1);
      console.log(
        `(c) 10 consecutive deploys under load, ${keepAlive ? 'kept-alive connections' : 'a connection per request'}: ${failed} failed of ${sent} requests in ${seconds} s (target 0)${failed ? `: ${reasons}` : ''}`,
      );
    }

    // (d) scale web=10 from 1, until ten distinct containers answer.
    const scaleTimes: number[] = [];
    for (let run = 0; run < (ONLY.has('d') ? RUNS : 0); run += 1) {
      ok(await user.deis(['scale', 'web=1', '-a', main!.name]), 'scale down');
      const started = Date.now();
      ok(await user.deis(['scale', 'web=10', '-a', main!.name]), 'scale up');
      const seen = new Set<string>();
      while (seen.size < 10 && Date.now() - started < 120_000) {
        const response = await viaRouter(platform.routerPort, host).catch(() => null);
        const match = response?.status === 200 ? /on (\S+)/.exec(response.body) : null;
        if (match) seen.add(match[1]!);
      }
      if (seen.size < 10) throw new Error(`only ${seen.size} containers answered after scale web=10`);
      scaleTimes.push((Date.now() - started) / 1000);
    }
    if (ONLY.has('d')) console.log(`(d) scale web=10 → ten containers answering: ${figures(scaleTimes)} (target < 3 s)`);
  } finally {
    await baseline?.platform.stop();
    await platform.stop();
  }
}

await main();
