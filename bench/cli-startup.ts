/**
 * How fast the CLI starts: the median (and p90) of N runs of `node -e 0` (the floor, measured in the same run),
 * `node dist/deis.js --version`, and `deis apps` against a controller started here on 127.0.0.1 (fake scheduler,
 * SQLite in memory). Target: --version under 150 ms.
 *
 *   npx tsx bench/cli-startup.ts            (BENCH_RUNS=N to change the number of runs, default 21)
 * @module
 */
import { spawn } from 'node:child_process';
import { CLI_PATH, ensureCliBuilt, newCliUser, registerUser, startCliController } from '../test/cli/cli-harness.ts';

const TARGET_MS = 150;
const runs = Number(process.env.BENCH_RUNS ?? 21);

/** Asynchronous: the controller answering `deis apps` runs in this very process, so its event loop must stay free. */
function time(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

await ensureCliBuilt();
const server = await startCliController();
try {
  const user = newCliUser();
  const registered = await registerUser(user, server.url, 'bench');
  if (registered.code !== 0) throw new Error(registered.stderr);
  await user.deis(['create', 'bench-app', '--no-remote']);

  const cases: [string, string[]][] = [
    ['node -e 0 (baseline)', ['-e', '0']],
    ['deis --version', [CLI_PATH, '--version']],
    ['deis apps', [CLI_PATH, 'apps']],
  ];
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  // Interleaved, so that a busy moment on the machine hits every case alike.
  for (let run = 0; run < runs; run++) {
    for (const [name, args] of cases) samples.get(name)!.push(await time(args, user.env, user.home));
  }
  const baseline = percentile(samples.get('node -e 0 (baseline)')!, 50);
  console.log(`CLI startup, ${runs} runs each (ms)`);
  console.log(`${'case'.padEnd(24)}${'median'.padStart(9)}${'p90'.padStart(9)}${'over node'.padStart(11)}`);
  for (const [name] of cases) {
    const median = percentile(samples.get(name)!, 50);
    console.log(`${name.padEnd(24)}${median.toFixed(1).padStart(9)}${percentile(samples.get(name)!, 90).toFixed(1).padStart(9)}${(median - baseline).toFixed(1).padStart(11)}`);
  }
  const version = percentile(samples.get('deis --version')!, 50);
  console.log(`--version median ${version.toFixed(1)} ms: ${version < TARGET_MS ? 'within' : 'OVER'} the ${TARGET_MS} ms target`);
} finally {
  await server.close();
}
