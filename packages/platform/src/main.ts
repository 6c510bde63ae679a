/**
 * `dist/platform.js`: `up`, `down` and `status` manage the background platform; `run` is that platform in the
 * foreground (what `up` starts, and what end-to-end tests start on ports of their own); `stacks` makes the buildpack
 * stack images (what `up` does first, and `./platform test` before the tests).
 * @module
 */
import { resolve } from 'node:path';
import { BUILD_STACK_IMAGE, RUN_STACK_IMAGE, ensureBuildpackStacks } from '@deis/builder/buildpack-stacks';
import { platformDown, platformStatus, platformUp } from './lifecycle.ts';
import { loadPlatformSettings } from './platform-settings.ts';
import { runPlatform } from './roles.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} platform: ${line}\n`);
}

async function run(): Promise<void> {
  const settings = loadPlatformSettings();
  const platform = await runPlatform(settings, log);
  log('ready');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (apps keep running)`);
    platform.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  switch (command) {
    case 'run':
      await run();
      return -1;
    case 'up':
      await platformUp(loadPlatformSettings(), REPO_ROOT, print);
      return 0;
    case 'down':
      await platformDown(loadPlatformSettings(), print);
      return 0;
    case 'status':
      return (await platformStatus(loadPlatformSettings(), print)) ? 0 : 1;
    case 'stacks': {
      const { stackPull } = loadPlatformSettings();
      const { built } = await ensureBuildpackStacks({ ...(stackPull ? { pull: stackPull } : {}), onProgress: (line) => print(`==> ${line}`) });
      if (built.length === 0) print(`The buildpack stacks ${BUILD_STACK_IMAGE} and ${RUN_STACK_IMAGE} are current.`);
      return 0;
    }
    default:
      process.stderr.write('Usage: platform.js up|down|status|run|stacks\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.DEIS_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
