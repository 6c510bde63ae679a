/**
 * What the CLI tests share: the built dist/deis.js (rebuilt when a CLI or SDK source is newer), a real controller on
 * 127.0.0.1 with the fake scheduler, and a user with a HOME of their own who runs `deis` as a child process.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startTestController } from '@deis/controller/testing/test-controller';
import type { TestController } from '@deis/controller/testing/test-controller';
import type { ControllerSettings } from '@deis/controller/settings';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_PATH = join(REPO_ROOT, 'dist/deis.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/deis.js with the options of scripts/build.mjs when it is missing or older than its sources. The bundle is
 * written beside and renamed into place, so test files building at once never see half a file.
 */
export async function ensureCliBuilt(): Promise<void> {
  const sources = Math.max(newestSource(join(REPO_ROOT, 'packages/cli/src')), newestSource(join(REPO_ROOT, 'packages/sdk/src')));
  let built = 0;
  try {
    built = statSync(CLI_PATH).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= sources) return;
  const result = await build({
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    legalComments: 'none',
    entryPoints: { deis: 'packages/cli/src/main.ts' },
    outdir: 'dist',
    minify: true,
    banner: { js: '#!/usr/bin/env node' },
    write: false,
  });
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents, { mode: 0o755 });
    renameSync(temporary, file.path);
  }
}

export interface Completed {
  code: number;
  stdout: string;
  stderr: string;
}

export function runProgram(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<Completed> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    // A command that exits without reading its stdin closes the pipe; that is not the test's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export interface CliUser {
  home: string;
  env: NodeJS.ProcessEnv;
  deis(args: string[], options?: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }): Promise<Completed>;
}

export function newCliUser(extraEnv: NodeJS.ProcessEnv = {}): CliUser {
  const home = mkdtempSync(join(tmpdir(), 'deis-cli-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    NO_COLOR: '1',
    GIT_AUTHOR_NAME: 'cli',
    GIT_AUTHOR_EMAIL: 'cli@example.test',
    GIT_COMMITTER_NAME: 'cli',
    GIT_COMMITTER_EMAIL: 'cli@example.test',
    GIT_CONFIG_NOSYSTEM: '1',
    ...extraEnv,
  };
  return {
    home,
    env,
    deis: (args, options = {}) => runProgram(process.execPath, [CLI_PATH, ...args], { cwd: options.cwd ?? home, env: { ...env, ...options.env }, input: options.input }),
  };
}

export interface CliController {
  controller: TestController;
  /** `http://deis.localhost:<port>`: reached at 127.0.0.1 by the CLI's transport. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startCliController(settings: Partial<ControllerSettings> = {}): Promise<CliController> {
  const controller = await startTestController(settings);
  await controller.app.listen({ host: '127.0.0.1', port: 0 });
  const address = controller.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { controller, url: `http://deis.localhost:${port}`, port, close: () => controller.close() };
}

/** Registers (the first user becomes admin) and logs in through the CLI itself. */
export async function registerUser(user: CliUser, url: string, username: string): Promise<Completed> {
  return user.deis(['register', url, `--username=${username}`, '--password=s3cret-pass', `--email=${username}@example.test`]);
}

/**
 * What most test files start with: the built CLI, a controller (with `settings` over the test defaults), and a user
 * registered (so the first, an admin) and logged in.
 */
export async function startWithUser(username: string, settings: Partial<ControllerSettings> = {}): Promise<{ server: CliController; user: CliUser }> {
  await ensureCliBuilt();
  const server = await startCliController(settings);
  const user = newCliUser();
  const registered = await registerUser(user, server.url, username);
  if (registered.code !== 0) {
    await server.close();
    throw new Error(`register failed: ${registered.stderr}`);
  }
  return { server, user };
}

/** A git repository in a new temporary directory. */
export async function gitRepo(user: CliUser): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'deis-cli-repo-'));
  const result = await runProgram('git', ['init', '-q', '-b', 'main'], { cwd: dir, env: user.env });
  if (result.code !== 0) throw new Error(`git init failed: ${result.stderr}`);
  return dir;
}
