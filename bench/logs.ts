/**
 * The log figures on the real engine, one platform instance started for the run (`npx tsx bench/logs.ts`, after
 * `npm run build`):
 *   (a) the delay from a line an app prints to the line shown by `deis logs -f` (a request asks the app to print it;
 *       the time runs from sending that request to the line on the CLI's stdout), median and p99 of `BENCH_LINES`;
 *   (b) the platform's ingestion rate while one app prints as fast as it can (`BENCH_FLOOD` lines): lines per second
 *       from the flood's start until its last line is in the app's log, beside what the app itself printed per
 *       second; and the router's latency to another app during the flood against a baseline measured just before;
 *   (c) the router's latency to another app while one app prints a steady `BENCH_PACED_RATE` (20,000) lines a second,
 *       against a baseline measured just before.
 * Targets (issue 11): (a) median under 200 ms, p99 under 1 s; (b) at least 20,000 lines/s without slowing the router.
 * Everything talks to 127.0.0.1; load is bounded in count and time.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_IMAGE } from '@deis/scheduler/stack-images';
import { newCliUser } from '../test/e2e/drivers/cli.ts';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { REPO_ROOT, startPlatform } from '../test/e2e/drivers/platform.ts';
import { runProgram } from '../test/e2e/drivers/processes.ts';
import { ok, printMachine } from './push-harness.ts';

const LINES = Number(process.env.BENCH_LINES ?? 200);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 300_000);
const LOAD_SECONDS = 5;
/** Issue 11's ingestion target, printed steadily for (c). */
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 20_000);
const id = randomBytes(3).toString('hex');
const IMAGE = `bench-logs/talker:${id}`;

/** `GET /say?text=…` prints the text; `GET /flood?n=N&tag=T` prints N lines as fast as it can, then `T done`; `GET /paced?rate=R&seconds=S&tag=T` prints R lines a second for S seconds. */
const SERVER = `const http = require('node:http');
http.createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (url.pathname === '/say') console.log(url.searchParams.get('text'));
  if (url.pathname === '/flood') {
    const n = Number(url.searchParams.get('n')), tag = url.searchParams.get('tag');
    const started = Date.now();
    // stdout is a non-blocking pipe: write with back-pressure, as fast as the pipe takes it.
    const write = (text) => new Promise((resolve) => (process.stdout.write(text) ? resolve() : process.stdout.once('drain', resolve)));
    (async () => {
      let chunk = '';
      for (let i = 0; i < n; i++) {
        chunk += tag + ' line ' + i + ' of a flood of lines printed as fast as the app can\\n';
        if (chunk.length > 65536) { await write(chunk); chunk = ''; }
      }
      await write(chunk + tag + ' done\\n');
      response.end(String(Date.now() - started));
    })();
    return;
  }
  if (url.pathname === '/paced') {
    // rate lines a second, in a batch every 10 ms, for the given seconds.
    const rate = Number(url.searchParams.get('rate')), seconds = Number(url.searchParams.get('seconds')), tag = url.searchParams.get('tag');
    const started = Date.now();
    let printed = 0;
    const timer = setInterval(() => {
      const due = Math.min(rate * seconds, Math.floor(((Date.now() - started) / 1000) * rate));
      let chunk = '';
      for (; printed < due; printed++) chunk += tag + ' paced line ' + printed + '\\n';
      if (chunk) process.stdout.write(chunk);
      if (printed >= rate * seconds) {
        clearInterval(timer);
        console.log(tag + ' done');
        response.end(String(Date.now() - started));
      }
    }, 10);
    return;
  }
  response.end('ok\\n');
}).listen(Number(process.env.PORT || 80));
process.on('SIGTERM', () => process.exit(0));
`;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Closed-loop requests from `concurrency` workers for `seconds`; the latencies in ms. */
async function routerLatencies(port: number, host: string, seconds: number, concurrency = 4): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host }, timeout: 10_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', () => resolve());
        req.end();
      });
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return latencies;
}

async function main(): Promise<void> {
  await printMachine(1);
  const context = mkdtempSync(join(tmpdir(), 'bench-logs-'));
  writeFileSync(join(context, 'server.js'), SERVER);
  writeFileSync(join(context, 'Dockerfile'), `FROM ${NODE_IMAGE}\nCOPY server.js /app/server.js\nEXPOSE 80\nCMD ["node", "/app/server.js"]\n`);
  ok(await runProgram('docker', ['build', '-q', '-t', IMAGE, context], { timeoutMs: 180_000 }), 'docker build');
  rmSync(context, { recursive: true, force: true });
  const platform = await startPlatform();
  try {
    const user = newCliUser();
    ok(await user.deis(['register', platform.controllerUrl, '--username=bench', '--password=bench-password-1', '--email=bench@example.test']), 'register');
    const talker = `talker-${id}`;
    const quiet = `quiet-${id}`;
    for (const app of [talker, quiet]) {
      ok(await user.deis(['create', app, '--no-remote']), 'create');
      ok(await user.deis(['pull', IMAGE, '-a', app]), 'pull');
    }
    const say = (app: string, path: string) => viaRouter(platform.routerPort, `${app}.${platform.domain}`, path, { timeoutMs: 120_000 });

    // (a) print → logs -f
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/deis.js'), 'logs', '-f', '-n', '1', '-a', talker], { cwd: user.home, env: user.env });
    const waiting = new Map<string, (at: number) => void>();
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const at = performance.now();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const text = line.slice(line.indexOf(']: ') + 3);
        waiting.get(text)?.(at);
      }
    });
    // The stream is open once a first line arrives.
    const warm = `warm-${id}`;
    await new Promise<void>((resolve) => {
      waiting.set(warm, () => resolve());
      void say(talker, `/say?text=${warm}`);
    });
    const delays: number[] = [];
    for (let i = 0; i < LINES; i++) {
      const text = `latency-${id}-${i}`;
      const seen = new Promise<number>((resolve) => waiting.set(text, resolve));
      const started = performance.now();
      await say(talker, `/say?text=${text}`);
      delays.push((await seen) - started);
      waiting.delete(text);
    }
    child.kill();
    console.log(`(a) print → deis logs -f, ${LINES} lines: median ${quantile(delays, 0.5).toFixed(1)} ms, p99 ${quantile(delays, 0.99).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms (target: median < 200 ms, p99 < 1000 ms)`);

    // (b) ingestion while flooding, and the router meanwhile
    const quietHost = `${quiet}.${platform.domain}`;
    const baseline = await routerLatencies(platform.routerPort, quietHost, LOAD_SECONDS);
    const profile = JSON.parse(readFileSync(join(user.home, '.deis', 'client.json'), 'utf8')) as { token: string };
    const tag = `flood-${id}`;
    const started = performance.now();
    const flood = say(talker, `/flood?n=${FLOOD}&tag=${tag}`);
    const during = routerLatencies(platform.routerPort, quietHost, LOAD_SECONDS);
    let ingestedAt = NaN;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const response = await fetch(`http://127.0.0.1:${platform.controllerPort}/v2/apps/${talker}/logs?log_lines=1`, { headers: { authorization: `token ${profile.token}` } });
      const text = await response.text();
      if (text.includes(`${tag} done`)) {
        ingestedAt = performance.now();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answer = await flood;
    const printedMs = Number(answer.body);
    if (Number.isNaN(ingestedAt) || answer.status !== 200) console.log(`the flood failed: ${answer.status} ${answer.body.slice(0, 200)}\n${platform.output().slice(-2000)}`);
    const loaded = await during;
    const seconds = (ingestedAt - started) / 1000;
    console.log(`(b) one app printing ${FLOOD} lines: the app printed them in ${(printedMs / 1000).toFixed(2)} s (${Math.round(FLOOD / (printedMs / 1000))} lines/s); the platform had the last one in its log after ${seconds.toFixed(2)} s: ${Math.round(FLOOD / seconds)} lines/s ingested (target ≥ 20,000)`);
    console.log(`    router to another app, ${LOAD_SECONDS} s of 4 workers: baseline p50 ${quantile(baseline, 0.5).toFixed(2)} ms, p99 ${quantile(baseline, 0.99).toFixed(2)} ms (${baseline.length} requests); during the flood p50 ${quantile(loaded, 0.5).toFixed(2)} ms, p99 ${quantile(loaded, 0.99).toFixed(2)} ms (${loaded.length} requests)`);

    // (c) the router while one app prints at the target rate, the whole window long
    const pacedTag = `paced-${id}`;
    const pacedBaseline = await routerLatencies(platform.routerPort, quietHost, LOAD_SECONDS);
    const paced = say(talker, `/paced?rate=${PACED_RATE}&seconds=${LOAD_SECONDS + 1}&tag=${pacedTag}`);
    const pacedLoaded = await routerLatencies(platform.routerPort, quietHost, LOAD_SECONDS);
    await paced;
    const ratio = (q: number) => (quantile(pacedLoaded, q) / quantile(pacedBaseline, q)).toFixed(2);
    console.log(
      `(c) router to another app while one app prints ${PACED_RATE} lines/s: baseline p50 ${quantile(pacedBaseline, 0.5).toFixed(2)} ms, p99 ${quantile(pacedBaseline, 0.99).toFixed(2)} ms (${pacedBaseline.length} requests); meanwhile p50 ${quantile(pacedLoaded, 0.5).toFixed(2)} ms (${ratio(0.5)}×), p99 ${quantile(pacedLoaded, 0.99).toFixed(2)} ms (${ratio(0.99)}×) (${pacedLoaded.length} requests)`,
    );
  } finally {
    await platform.stop();
    await runProgram('docker', ['rmi', '-f', IMAGE]);
  }
}

await main();
