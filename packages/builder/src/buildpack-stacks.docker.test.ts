/**
 * The buildpack stacks made on the real engine: what each image holds, that a venv made in the build stack runs in
 * the run stack, that a current pair is kept in milliseconds, and that a changed recipe makes both again. The
 * recipe change builds under tags of its own, so the stacks other tests use stay as they are.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_STACK_IMAGE, RUN_STACK_IMAGE, STACK_HASH_LABEL, STACK_RECIPE, ensureBuildpackStacks, ensureStacks, hostMirror, stackRecipeHash } from './buildpack-stacks.ts';
import type { StackTarget } from './buildpack-stacks.ts';

const engine = new Dockerode();
const id = randomBytes(3).toString('hex');
const volume = `deis-stack-test-${id}`;
const keepTags = [`deis-test/stack-run-old:${id}`, `deis-test/stack-build-old:${id}`] as const;
const variant: StackTarget = {
  buildImage: `deis-test/stack-build:${id}`,
  runImage: `deis-test/stack-run:${id}`,
  recipe: { ...STACK_RECIPE, labels: { 'io.deis.test': id } },
};

interface Completed {
  code: number;
  stdout: string;
  stderr: string;
}

function docker(args: string[]): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A bash script in a throwaway container of `image`; its lines of output, failing the test when it fails. */
async function inImage(image: string, script: string, options: { user?: string; mounts?: string[]; network?: string } = {}): Promise<string[]> {
  const result = await docker([
    'run', '--rm', '--network', options.network ?? 'none',
    ...(options.user ? ['--user', options.user, '--env', 'HOME=/app'] : []),
    ...(options.mounts ?? []).flatMap((mount) => ['--volume', mount]),
    image, 'bash', '-c', `set -eu; ${script}`,
  ]);
  expect(result.stderr, result.stdout).not.toMatch(/command not found|No such file/);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout.trim().split('\n');
}

const stacksWorkDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('deis-stacks-'));

beforeAll(async () => {
  await ensureBuildpackStacks();
}, 900_000);

afterAll(async () => {
  await docker(['volume', 'rm', '-f', volume]);
  await docker(['rmi', variant.buildImage, variant.runImage, ...keepTags]);
});

describe('the buildpack stacks', () => {
  it('exist, labelled with the hash of the recipe; a second call makes nothing, in milliseconds', async () => {
    const hash = stackRecipeHash(STACK_RECIPE, hostMirror());
    for (const image of [RUN_STACK_IMAGE, BUILD_STACK_IMAGE]) {
      expect((await engine.getImage(image).inspect()).Config?.Labels).toMatchObject({ [STACK_HASH_LABEL]: hash, 'io.deis.stack': 'deis-bookworm' });
    }
    const lines: string[] = [];
    const started = performance.now();
    const result = await ensureBuildpackStacks({ onProgress: (line) => lines.push(line) });
    const elapsed = performance.now() - started;
    expect(result).toEqual({ built: [] });
    expect(lines).toEqual([]);
    expect(elapsed).toBeLessThan(500);
  });

  it('concurrent calls share one piece of work', () => {
    const first = ensureBuildpackStacks();
    const second = ensureBuildpackStacks();
    expect(second).toBe(first);
    return Promise.all([first, second]);
  });

  it('run stack: bash, Node.js, Python and the app user owning /app; no compiler, no Go; no docs, manuals or package lists', async () => {
    const lines = await inImage(RUN_STACK_IMAGE, [
      'echo "bash $BASH_VERSION"',
      'echo "node $(node --version)"',
      'python3 --version',
      'echo "PATH $PATH"',
      'getent passwd app',
      'getent group app',
      'stat -c "/app %u:%g %a" /app',
      'stat -c "/tmp %a" /tmp',
      'for tool in gcc cc make go npm git eatmydata; do if command -v $tool >/dev/null; then echo "has $tool"; fi; done',
      'echo "docs $(find /usr/share/doc -type f ! -name copyright | wc -l)"',
      'echo "manuals $(find /usr/share/man /usr/share/locale /usr/share/info -type f 2>/dev/null | wc -l)"',
      'echo "lists $(find /var/lib/apt/lists -type f | wc -l)"',
      'echo "debs $(find /var/cache/apt -name "*.deb" | wc -l)"',
      'test -f /usr/share/doc/bash/copyright && echo "licences kept"',
    ].join('; '));
    expect(lines).toContainEqual(expect.stringMatching(/^bash 5\.2/));
    expect(lines).toContain('node v18.20.4');
    expect(lines).toContainEqual(expect.stringMatching(/^Python 3\.11\./));
    expect(lines).toContain('PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(lines).toContain('app:x:1000:1000::/app:/bin/bash');
    expect(lines).toContain('app:x:1000:');
    expect(lines).toContain('/app 1000:1000 755');
    expect(lines).toContain('/tmp 1777');
    const tools = lines.filter((line) => line.startsWith('has ')).sort();
    // npm is in the run stack only while the recipe puts it there (for `npm start` web processes).
    expect(tools).toEqual(STACK_RECIPE.runPackages.includes('npm') ? ['has npm'] : []);
    for (const line of ['docs 0', 'manuals 0', 'lists 0', 'debs 0', 'licences kept']) expect(lines).toContain(line);
    const size = (await engine.getImage(RUN_STACK_IMAGE).inspect()).Size;
    expect(size).toBeLessThan(400 * 1024 * 1024);
  });

  it('run stack: apt still works (package lists come back with apt-get update)', async () => {
    const lines = await inImage(RUN_STACK_IMAGE, 'apt-get update -qq; apt-get install -s -qq --no-install-recommends hello | grep "^Inst "', { network: 'host' });
    expect(lines).toContainEqual(expect.stringMatching(/^Inst hello /));
  });

  it('build stack: Go, Node.js, npm, Python with venv, a C toolchain, git, jq and curl, which work as the app user', async () => {
    const lines = await inImage(BUILD_STACK_IMAGE, [
      'cd /tmp',
      'go version',
      'echo "node $(node --version)"',
      'echo "npm $(npm --version)"',
      'python3 -m venv /tmp/venv && /tmp/venv/bin/pip --version',
      'python3 -c "import sysconfig; print(\'python.h\', __import__(\'os\').path.exists(sysconfig.get_paths()[\'include\'] + \'/Python.h\'))"',
      'gcc --version | head -n 1',
      'printf "#include <stdio.h>\\nint main(void) { puts(\\"c ok\\"); return 0; }\\n" > hello.c && gcc -o hello-c hello.c && ./hello-c',
      'printf "package main\\n\\nfunc main() { println(\\"go ok\\") }\\n" > hello.go && go build -o hello-go hello.go && ./hello-go 2>&1',
      'make --version | head -n 1',
      'pkg-config --version',
      'git --version',
      'jq --version',
      'curl --version | head -n 1',
      'xz --version | head -n 1',
    ].join('; '), { user: '1000:1000' });
    expect(lines).toContainEqual(expect.stringMatching(/^go version go1\.19/));
    expect(lines).toContain('node v18.20.4');
    expect(lines).toContainEqual(expect.stringMatching(/^npm 9\./));
    expect(lines).toContainEqual(expect.stringMatching(/^pip \d+.* from \/tmp\/venv\//));
    expect(lines).toContain('python.h True');
    expect(lines).toContainEqual(expect.stringMatching(/^gcc .* 12\./));
    for (const line of ['c ok', 'go ok']) expect(lines).toContain(line);
    for (const prefix of ['GNU Make', 'git version', 'jq-', 'curl ', 'xz (XZ Utils)']) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${prefix.replace(/[()]/g, '\\$&')}`)));
  });

  it('a venv made in the build stack at /app/.venv runs unchanged in the run stack', async () => {
    await inImage(BUILD_STACK_IMAGE, 'python3 -m venv /app/.venv && mkdir -p /app/.venv/lib/python3.11/site-packages/greeting && echo "WORDS = \\"hello from the venv\\"" > /app/.venv/lib/python3.11/site-packages/greeting/__init__.py', {
      user: '1000:1000',
      mounts: [`${volume}:/app`],
    });
    const lines = await inImage(RUN_STACK_IMAGE, '/app/.venv/bin/python -c "import sys, pip, greeting; print(sys.prefix); print(greeting.WORDS)"; /app/.venv/bin/pip --version', {
      user: '1000:1000',
      mounts: [`${volume}:/app`],
    });
    expect(lines[0]).toBe('/app/.venv');
    expect(lines[1]).toBe('hello from the venv');
    expect(lines[2]).toMatch(/^pip \d+.* from \/app\/\.venv\/lib\/python3\.11\/site-packages\/pip /);
  });

  it('the build stack has the run stack\'s packages at the same versions', async () => {
    const versions = (image: string) => inImage(image, "dpkg-query -W -f '${Package}=${Version}\\n'");
    const run = await versions(RUN_STACK_IMAGE);
    const build = new Set(await versions(BUILD_STACK_IMAGE));
    expect(run.filter((entry) => !build.has(entry))).toEqual([]);
    expect(build.size).toBeGreaterThan(run.length);
  });

  it('a failed making leaves no work directory behind and names no image', async () => {
    const before = new Set(stacksWorkDirs());
    // Nothing listens on port 9 of loopback: debootstrap fails at its first download.
    const failing = ensureStacks(variant, { mirror: 'http://127.0.0.1:9/debian' });
    await expect(failing).rejects.toThrow(/^debootstrap bookworm from http:\/\/127\.0\.0\.1:9\/debian failed with code 1/);
    expect(stacksWorkDirs().filter((name) => !before.has(name))).toEqual([]);
    for (const image of [variant.runImage, variant.buildImage]) await expect(engine.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('the next making sweeps what a killed maker left: its work directory and its unnamed images', async () => {
    // A maker killed after its first image: a work directory naming a process that is gone, and an unnamed image.
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    const abandoned = mkdtempSync(join(tmpdir(), 'deis-stacks-'));
    writeFileSync(join(abandoned, 'owner.pid'), `${dead.pid}\n`);
    // An empty tar archive: two zero blocks.
    writeFileSync(join(abandoned, 'base.tar'), Buffer.alloc(1024));
    const imported = await docker(['import', join(abandoned, 'base.tar')]);
    expect(imported.code, imported.stderr).toBe(0);
    const image = imported.stdout.trim();
    expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    writeFileSync(join(abandoned, 'images'), `${image}\n`);
    // A live maker's directory stays.
    const live = mkdtempSync(join(tmpdir(), 'deis-stacks-'));
    writeFileSync(join(live, 'owner.pid'), `${process.pid}\n`);
    try {
      await expect(ensureStacks(variant, { mirror: 'http://127.0.0.1:9/debian' })).rejects.toThrow(/^debootstrap bookworm/);
      expect(existsSync(abandoned)).toBe(false);
      await expect(engine.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect(existsSync(live)).toBe(true);
    } finally {
      rmSync(live, { recursive: true, force: true });
      rmSync(abandoned, { recursive: true, force: true });
    }
  });

  it('a changed recipe makes both images again; the images of the old recipe stay while something else names them', async () => {
    const workDirs = new Set(stacksWorkDirs());
    // The test's tags start as the current stacks, so only the changed recipe tells them apart; the keep tags name
    // the old images too, as the stacks' own names or a slug built on them would.
    const old: string[] = [];
    for (const [image, as, keep] of [[RUN_STACK_IMAGE, variant.runImage, keepTags[0]], [BUILD_STACK_IMAGE, variant.buildImage, keepTags[1]]] as const) {
      old.push((await engine.getImage(image).inspect()).Id);
      for (const tag of [as, keep]) expect((await docker(['tag', old.at(-1) as string, tag])).code).toBe(0);
    }
    const lines: string[] = [];
    const result = await ensureStacks(variant, { onProgress: (line) => lines.push(line) });
    expect(result).toEqual({ built: [variant.runImage, variant.buildImage] });
    expect(lines[0]).toBe(`Making the buildpack stacks (first time only, about a minute): debootstrap bookworm from ${hostMirror()}...`);
    expect(lines.at(-1)).toMatch(/^Made the buildpack stacks in \d+ s$/);

    const hash = stackRecipeHash(variant.recipe, hostMirror());
    expect(hash).not.toBe(stackRecipeHash(STACK_RECIPE, hostMirror()));
    const made: string[] = [];
    for (const image of [variant.runImage, variant.buildImage]) {
      const info = await engine.getImage(image).inspect();
      expect(info.Config?.Labels).toMatchObject({ [STACK_HASH_LABEL]: hash, 'io.deis.test': id });
      made.push(info.Id);
    }
    expect(made.filter((image) => old.includes(image))).toEqual([]);
    for (const image of old) expect((await engine.getImage(image).inspect()).Id).toBe(image);
    expect(await ensureStacks(variant)).toEqual({ built: [] });
    expect(stacksWorkDirs().filter((name) => !workDirs.has(name))).toEqual([]);
  }, 900_000);
});
