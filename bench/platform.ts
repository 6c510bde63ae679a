/**
 * The platform's deploy figures on the real engine, one instance started for the run (`npx tsx bench/platform.ts`,
 * after `npm run build`):
 *   (a) seconds from `git push` of a small Dockerfile app to its first 200 through the router, first and repeat push;
 *   (c) failed requests during 10 consecutive deploys under constant load;
 *   (d) seconds from `deis scale web=10` to ten containers answering through the router.
 * Each is a median of several runs (`BENCH_RUNS`), printed with the machine's details; `BENCH_ONLY=d` measures only
 * (d). Load goes only to 127.0.0.1, bounded in count and time. Targets (issue 4): (a) repeat push under 3 s, (c) 0 failed requests, (d) under 3 s.
 * @module
 */
import { cpus, totalmem } from 'node:os';
import { mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { newCliUser } from '../test/e2e/drivers/cli.ts';
import { sampleAppRepo, sshCommand } from '../test/e2e/drivers/git.ts';
import type { AppRepo } from '../test/e2e/drivers/git.ts';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { startPlatform } from '../test/e2e/drivers/platform.ts';
import type { PlatformInstance } from '../test/e2e/drivers/platform.ts';
import { runProgram } from '../test/e2e/drivers/processes.ts';
import type { Completed } from '../test/e2e/drivers/processes.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** The figures to measure, e.g. `BENCH_ONLY=d`; all by default. (d) needs one pushed app, so (a) then pushes it once. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'acd').toLowerCase());

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function ok(result: Completed, what: string): Completed {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Polls the router until the app answers 200 with a body containing `marker`; returns the time it took. */
async function until200(platform: PlatformInstance, host: string, marker: string, started: number): Promise<number> {
  const deadline = started + 120_000;
  while (Date.now() < deadline) {
    const response = await viaRouter(platform.routerPort, host).catch(() => null);
    if (response?.status === 200 && response.body.includes(marker)) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${host} did not answer with "${marker}" within 120 s`);
}

/** Sends requests in a closed loop with `concurrency` workers until `stop()`; counts the ones that did not get a 200. */
function constantLoad(port: number, host: string, concurrency: number, maxRequests: number, keepAlive: boolean) {
  const agent = new Agent({ keepAlive, maxSockets: concurrency });
  let running = true;
  let sent = 0;
  let failed = 0;
  const reasons = new Map<string, number>();
  const fail = (reason: string) => {
    failed += 1;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host }, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(error.code ?? error.message);
        resolve();
      });
      req.end();
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && sent < maxRequests) {
      sent += 1;
      await one();
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return { sent, failed, reasons: [...reasons].map(([reason, count]) => `${reason} ×${count}`).join(', ') };
    },
  };
}

async function main(): Promise<void> {
  const docker = await runProgram('docker', ['version', '--format', '{{.Server.Version}}']);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, Docker ${docker.stdout.trim()}`);
  console.log(`runs per figure: ${RUNS}\n`);

  const platform = await startPlatform();
  try {
    const user = newCliUser();
    const keyPath = join(user.home, '.ssh', 'id_ed25519');
    mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
    ok(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]), 'ssh-keygen');
    user.env.GIT_SSH_COMMAND = sshCommand(keyPath, platform.sshPort);
    ok(await user.deis(['register', platform.controllerUrl, '--username=bench', '--password=bench-password-1', '--email=bench@example.test']), 'register');
    ok(await user.deis(['keys:add', `${keyPath}.pub`]), 'keys:add');

    const newApp = async (name: string): Promise<AppRepo> => {
      const repo = await sampleAppRepo('node-hello', user.env);
      ok(await user.deis(['create', name, '--no-remote'], { cwd: repo.dir }), 'create');
      ok(await repo.git(['remote', 'add', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${name}.git`]), 'git remote');
      return repo;
    };

    // (a) first push of a fresh app, then repeat pushes of a one-line change.
    const first: number[] = [];
    const repeat: number[] = [];
    let main: { name: string; repo: AppRepo } | null = null;
    for (let run = 0; run < (ONLY.has('a') ? RUNS : 1); run += 1) {
      const name = `bench-${run}-${Math.random().toString(36).slice(2, 6)}`;
      const repo = await newApp(name);
      const started = Date.now();
      ok(await repo.git(['push', 'deis', 'main']), 'first push');
      first.push(await until200(platform, `${name}.${platform.domain}`, 'Powered by', started));
      main ??= { name, repo };
    }
    for (let run = 0; run < (ONLY.has('a') ? RUNS : 0); run += 1) {
      const marker = `change-${run}-${Date.now()}`;
      await main!.repo.commitFile('marker.txt', `${marker}\n`, marker);
      const started = Date.now();
      ok(await main!.repo.git(['push', 'deis', 'main']), 'repeat push');
      // The marker file does not change the answer; the release number does.
      const release = `Release v${3 + run}`;
      repeat.push(await until200(platform, `${main!.name}.${platform.domain}`, release, started));
    }
    if (ONLY.has('a')) {
      console.log(`(a) git push → first 200 through the router: first push median ${median(first).toFixed(2)} s [${first.map((v) => v.toFixed(2)).join(', ')}]`);
      console.log(`    repeat push median ${median(repeat).toFixed(2)} s [${repeat.map((v) => v.toFixed(2)).join(', ')}] (target < 3 s)`);
    }

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
    if (ONLY.has('d')) console.log(`(d) scale web=10 → ten containers answering: median ${median(scaleTimes).toFixed(2)} s [${scaleTimes.map((v) => v.toFixed(2)).join(', ')}] (target < 3 s)`);
  } finally {
    await platform.stop();
  }
}

await main();
