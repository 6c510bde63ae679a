/**
 * Buildpack builds on the real engine with buildpacks written for the test: the Heroku API as the runner drives it
 * (detect, compile with BUILD_DIR/CACHE_DIR/ENV_DIR, release, export between a chain), the slug image and its
 * `/runner/init`, the cache between builds, and the failures that end a push (a buildpack's exit, the limits).
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildpackBuildError, buildWithBuildpacks, cacheVolumeName } from './buildpack-build.ts';
import type { BuildpackBuildRequest, BuildpackSettings } from './buildpack-build.ts';
import { ensureBuildpackStacks } from './buildpack-stacks.ts';

const docker = new Dockerode();
const RUN = randomBytes(3).toString('hex');
const PLATFORM = `bpt${RUN}`;
const scratch = mkdtempSync(join(tmpdir(), 'deis-bp-build-'));
const images: string[] = [];
const apps: string[] = [];

const settings: BuildpackSettings = { platformName: PLATFORM, dataDir: join(scratch, 'data'), timeoutMs: 120_000, slugSizeLimitBytes: 50 * 1024 * 1024, preferBundled: true };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd, encoding: 'utf8' });
}

/** A git repository of `files` (executable when the path has `bin/`), committed; returns its path and head. */
function repository(name: string, files: Record<string, string>): { dir: string; sha: string } {
  const dir = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text, { mode: path.includes('bin/') ? 0o755 : 0o644 });
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'first');
  return { dir, sha: git(dir, 'rev-parse', 'HEAD').trim() };
}

function buildpack(name: string, bin: { detect?: string; compile: string; release?: string }): string {
  const files: Record<string, string> = {
    'bin/detect': `#!/bin/bash\n${bin.detect ?? `echo ${name}`}\n`,
    'bin/compile': `#!/bin/bash\nset -e\n${bin.compile}\n`,
  };
  if (bin.release) files['bin/release'] = `#!/bin/bash\n${bin.release}\n`;
  return `file://${repository(name, files).dir}`;
}

let app = '';
async function build(source: { dir: string; sha: string }, values: Record<string, string>, over: Partial<BuildpackSettings> = {}): Promise<{ lines: string[]; result?: Awaited<ReturnType<typeof buildWithBuildpacks>>; error?: unknown }> {
  const lines: string[] = [];
  const image = `${app}:git-${source.sha.slice(0, 8)}`;
  images.push(image);
  const request: BuildpackBuildRequest = {
    docker,
    settings: { ...settings, ...over },
    app,
    commit: { repositoryPath: join(source.dir, '.git'), sha: source.sha, gitEnv: {} },
    image,
    values,
    signal: new AbortController().signal,
    out: (line) => lines.push(line),
  };
  try {
    return { lines, result: await buildWithBuildpacks(request) };
  } catch (error) {
    return { lines, error };
  }
}

function runImage(image: string, args: string[] = [], env: string[] = []): { code: number; output: string } {
  const result = spawnSync('docker', ['run', '--rm', ...env.flatMap((e) => ['-e', e]), image, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

const FIRST = buildpack('first', {
  detect: '[ -f hello.txt ] && echo Hello',
  compile: [
    'echo "-----> Compiling as $(id -u) in $1 with HOME=$HOME STACK=$STACK"',
    'if [ -f "$2/stamp" ]; then echo "       cache hit"; else echo "       cache miss"; fi',
    'date > "$2/stamp"',
    'cp "$3/GREETING" "$1/greeting.txt"',
    'mkdir -p "$1/.profile.d" && echo "export FROM_PROFILE=yes" > "$1/.profile.d/first.sh"',
    'echo "export CHAIN_VALUE=from-first" > "$(dirname "$0")/../export"',
    'if [ -n "$GREETING" ]; then echo "config leaked into the environment"; exit 9; fi',
  ].join('\n'),
});
const SECOND = buildpack('second', {
  compile: 'echo "       second sees CHAIN_VALUE=$CHAIN_VALUE"',
  release: "cat <<'YAML'\n---\ndefault_process_types:\n  web: echo \"web $FROM_PROFILE $HOME $PORT $(cat greeting.txt)\"\n  worker: sleep 1\nYAML",
});

beforeAll(async () => {
  await ensureBuildpackStacks({ docker });
}, 600_000);

afterAll(async () => {
  for (const image of images) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  for (const name of apps) await docker.getVolume(cacheVolumeName(PLATFORM, name)).remove().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

describe('buildpack builds', () => {
  it('chains buildpacks from .buildpacks, with ENV_DIR, export, the last release, and a slug image that runs', async () => {
    app = `bpchain${RUN}`;
    apps.push(app);
    const source = repository('chain-app', { 'hello.txt': 'hi', '.buildpacks': `${FIRST}\n${SECOND}\n` });
    const built = await build(source, { GREETING: 'bonjour' });
    expect(built.error).toBeUndefined();
    const { lines } = built;
    expect(lines).toContain('-----> Fetching custom buildpack');
    expect(lines).toContain('-----> Hello app detected');
    expect(lines).toContain('-----> Compiling as 1000 in /app with HOME=/app STACK=deis-bookworm');
    expect(lines).toContain('       cache miss');
    expect(lines).toContain('       second sees CHAIN_VALUE=from-first');
    expect(lines).toContain('-----> Discovering process types');
    expect(lines).toContain('       Default types for buildpack -> web, worker');
    expect(lines.some((line) => /^-----> Compiled slug size is \d+(\.\d)?[KM]$/.test(line))).toBe(true);
    expect(built.result!.procfile).toEqual({ web: 'echo "web $FROM_PROFILE $HOME $PORT $(cat greeting.txt)"', worker: 'sleep 1' });
    expect(existsSync(built.result!.slugPath)).toBe(true);

    const web = runImage(`${app}:git-${source.sha.slice(0, 8)}`);
    expect(web).toEqual({ code: 0, output: 'web yes /app 5000 bonjour\n' });
    const run = runImage(`${app}:git-${source.sha.slice(0, 8)}`, ['/bin/bash', '-c', 'echo "$(id -u) $PWD $FROM_PROFILE $PORT"; ls -ld /app | cut -d" " -f3'], ['PORT=7000']);
    expect(run).toEqual({ code: 0, output: '1000 /app yes 7000\napp\n' });
  });

  it('keeps the cache between builds of an app, and starts afresh with DEIS_DISABLE_CACHE', async () => {
    const source = repository('chain-app-2', { 'hello.txt': 'again', '.buildpacks': `${FIRST}\n${SECOND}\n` });
    expect((await build(source, { GREETING: 'x' })).lines).toContain('       cache hit');
    const fresh = await build(source, { GREETING: 'x', DEIS_DISABLE_CACHE: '1' });
    expect(fresh.lines).toContain('-----> Building without the cache (DEIS_DISABLE_CACHE)');
    expect(fresh.lines).toContain('       cache miss');
  });

  it('uses the Procfile of the app over the buildpack defaults', async () => {
    const source = repository('procfile-app', { 'hello.txt': 'hi', Procfile: 'web: echo from procfile $FROM_PROFILE\n' });
    const built = await build(source, { GREETING: 'g', BUILDPACK_URL: FIRST });
    expect(built.lines).toContain('       Procfile declares types -> web');
    expect(built.result!.procfile).toEqual({ web: 'echo from procfile $FROM_PROFILE' });
    expect(runImage(`${app}:git-${source.sha.slice(0, 8)}`, ['start', 'web']).output).toBe('from procfile yes\n');
    expect(runImage(`${app}:git-${source.sha.slice(0, 8)}`, ['start', 'nope'])).toEqual({ code: 1, output: 'The Procfile declares no process type nope\n' });
  });

  it('ends the build with the buildpack output and its exit code', async () => {
    const bad = buildpack('heroku-buildpack-bad', { compile: 'echo "-----> about to fail"\necho "       something broke" >&2\nexit 3' });
    const source = repository('bad-app', { 'index.txt': 'x' });
    const built = await build(source, { BUILDPACK_URL: bad });
    expect(built.error).toBeInstanceOf(BuildpackBuildError);
    expect((built.error as Error).message).toBe('heroku-buildpack-bad exited with code 3, stopping build');
    expect(built.lines).toEqual(expect.arrayContaining(['-----> about to fail', '       something broke']));
    expect(built.lines.some((line) => line.startsWith('-----> Compiled slug size'))).toBe(false);
  });

  it('says when a named buildpack does not accept the app', async () => {
    const source = repository('not-hello', { 'other.txt': 'x' });
    const built = await build(source, { GREETING: 'g', BUILDPACK_URL: FIRST });
    expect((built.error as Error).message).toBe('first exited with code 1, stopping build');
    expect(built.lines).toContain('-----> App not compatible with buildpack: first');
  });

  it('stops a build that runs past the time limit, and refuses a slug over the size limit', async () => {
    const slow = buildpack('slow', { compile: 'echo "       sleeping"; sleep 60' });
    const source = repository('slow-app', { 'a.txt': 'x' });
    const started = Date.now();
    const timedOut = await build(source, { BUILDPACK_URL: slow }, { timeoutMs: 3_000 });
    expect((timedOut.error as Error).message).toBe('The build took longer than 3 s and was stopped (DEIS_BUILD_TIMEOUT)');
    expect(Date.now() - started).toBeLessThan(30_000);

    const big = buildpack('big', { compile: 'head -c 3000000 /dev/urandom > "$1/noise.bin"' });
    const tooBig = await build(repository('big-app', { 'a.txt': 'x' }), { BUILDPACK_URL: big }, { slugSizeLimitBytes: 1024 * 1024 });
    expect((tooBig.error as Error).message).toMatch(/^Compiled slug size: 2\.\dM is too large \(max is 1\.0M, DEIS_SLUG_SIZE_LIMIT\)$/);
  });
});
