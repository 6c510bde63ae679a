/**
 * Buildpack builds against a Dockerfile build of an app of the same size, in one run on one platform instance
 * (`npx tsx bench/buildpacks.ts`, after `npm run build`): seconds from `git push` to the first 200 through the
 * router for the Go app (Godeps, no dependencies) and the Node.js app (express from the npm registry), on the first
 * push of a new app and on repeat pushes with a warm build cache, each a median of `BENCH_RUNS`. With
 * `BENCH_STACKS=1` it also removes and makes again the two stack images, timing what a first `./platform up` does.
 * Targets (issue 8): repeat push under 6 s for both apps; the stacks made in under 90 s.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { BUILD_STACK_IMAGE, RUN_STACK_IMAGE, ensureBuildpackStacks } from '../packages/builder/src/buildpack-stacks.ts';
import { figures, median, ok, printMachine, startBenchPlatform } from './push-harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** The apps compared: the e2e samples, and the text their answer carries once the push is served. */
const APPS = [
  { label: 'Dockerfile (node-hello)', sample: 'node-hello', file: 'server.js', release: (n: number) => `Release v${n}` },
  { label: 'Go buildpack (go-godeps)', sample: 'go-godeps', file: 'main.go', release: (n: number) => `release v${n}` },
  { label: 'Node.js buildpack (node-express)', sample: 'node-express', file: 'server.js', release: (n: number) => `release v${n}` },
] as const;

async function stacks(): Promise<void> {
  const docker = new Dockerode();
  for (const image of [BUILD_STACK_IMAGE, RUN_STACK_IMAGE]) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  const started = Date.now();
  await ensureBuildpackStacks({ docker, onProgress: (line) => console.log(`    ${line}`) });
  console.log(`stack images made from nothing in ${((Date.now() - started) / 1000).toFixed(1)} s (target < 90 s)\n`);
}

async function main(): Promise<void> {
  await printMachine(RUNS);
  if (process.env.BENCH_STACKS === '1') await stacks();
  else await ensureBuildpackStacks();
  const bench = await startBenchPlatform({ DEIS_BUILDPACK_PREFER_BUNDLED: 'true' });
  const results: Array<{ label: string; first: number[]; repeat: number[] }> = [];
  try {
    for (const app of APPS) {
      const first: number[] = [];
      const repeat: number[] = [];
      let kept: { name: string; repo: Awaited<ReturnType<typeof bench.newApp>> } | null = null;
      for (let run = 0; run < RUNS; run += 1) {
        const name = `bench-${app.sample.slice(0, 6)}-${run}-${Math.random().toString(36).slice(2, 6)}`;
        const repo = await bench.newApp(app.sample, name);
        const started = Date.now();
        ok(await repo.git(['push', 'deis', 'main']), `first push of ${app.sample}`);
        first.push(await bench.until200(name, app.release(2), started));
        kept ??= { name, repo };
      }
      for (let run = 0; run < RUNS; run += 1) {
        // A one-line change of the source, so that the build runs again with the dependencies unchanged.
        await kept!.repo.commitFile(app.file, `${readFileSync(join(kept!.repo.dir, app.file), 'utf8').trimEnd()}\n// change ${run}\n`, `change ${run}`);
        const started = Date.now();
        ok(await kept!.repo.git(['push', 'deis', 'main']), `repeat push of ${app.sample}`);
        repeat.push(await bench.until200(kept!.name, app.release(3 + run), started));
      }
      results.push({ label: app.label, first, repeat });
    }
  } finally {
    await bench.platform.stop();
  }
  const baseline = results[0]!;
  console.log('git push → first 200 through the router');
  for (const result of results) {
    const ratio = (values: number[], base: number[]) => `${(median(values) / median(base)).toFixed(2)}× the Dockerfile app`;
    console.log(`  ${result.label}`);
    console.log(`    first push  ${figures(result.first)}${result === baseline ? '' : `, ${ratio(result.first, baseline.first)}`}`);
    console.log(`    repeat push ${figures(result.repeat)}${result === baseline ? '' : `, ${ratio(result.repeat, baseline.repeat)} (target < 6 s)`}`);
  }
}

await main();
