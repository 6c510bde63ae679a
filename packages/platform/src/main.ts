/**
 * `dist/platform.js`: `up`, `down` and `status` manage the background platform; `run` is that platform in the
 * foreground (what end-to-end tests start on ports of their own); `supervise` runs `run` and starts it again when it
 * dies (what `up` starts); `stacks` makes the buildpack stack images (what `up` does first, and `./platform test`
 * before the tests). `controller`, `builder` and `router` run one role each in the foreground, configured by the
 * environment, for a platform whose roles run apart (ADR 0016, docs/multi-host.md); `registry` runs the image
 * registry the builder pushes to and the nodes pull from (ADR 0019).
 * @module
 */
import { resolve } from 'node:path';
import { BUILD_STACK_IMAGE, RUN_STACK_IMAGE, ensureBuildpackStacks } from '@deis/builder/buildpack-stacks';
import { installCrashPolicy } from './crash-policy.ts';
import { platformDown, platformStatus, platformUp } from './lifecycle.ts';
import { loadPlatformSettings } from './platform-settings.ts';
import { ROLES } from './role-settings.ts';
import type { Role } from './role-settings.ts';
import { runRegistryRole } from './registry-role.ts';
import { runPlatform, runRole } from './roles.ts';
import type { RunningPlatform } from './roles.ts';
import { READY_MESSAGE, startSupervisor } from './supervisor.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} platform: ${line}\n`);
}

async function run(start: (settings: ReturnType<typeof loadPlatformSettings>) => Promise<RunningPlatform> = (settings) => runPlatform(settings, log)): Promise<void> {
  installCrashPolicy(process, { log, exit: (code) => process.exit(code) });
  const settings = loadPlatformSettings();
  const platform = await start(settings);
  log('ready');
  process.send?.(READY_MESSAGE);
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

async function supervise(): Promise<number> {
  const supervisor = startSupervisor({ command: process.execPath, args: ['--enable-source-maps', import.meta.filename, 'run'], log });
  const stop = (signal: string) => {
    log(`${signal}: stopping the platform`);
    void supervisor.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return supervisor.done;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  switch (command) {
    case 'run':
      await run();
      return -1;
    case 'controller':
    case 'builder':
    case 'router': {
      const role: Role = command;
      await run((settings) => runRole(role, settings, log));
      return -1;
    }
    case 'registry':
      await run((settings) => runRegistryRole(settings, log));
      return -1;
    case 'supervise':
      return supervise();
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
      process.stderr.write(`Usage: platform.js up|down|status|run|supervise|stacks|${ROLES.join('|')}|registry\n`);
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
