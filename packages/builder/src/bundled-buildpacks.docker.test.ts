/**
 * The bundled buildpacks compiling real apps in the build stack image, laid out as the runner lays a build out
 * (uid 1000, capabilities dropped, /app, /tmp/cache, /tmp/env, the host CA bundle), and what they built running in
 * the run stack image. One container per build and one per run check.
 * @module
 */
import { spawn } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledBuildpacksDir } from './bundled-buildpacks.ts';
import type { BundledBuildpack } from './bundled-buildpacks.ts';
import { BUILD_STACK_IMAGE, RUN_STACK_IMAGE, ensureBuildpackStacks } from './buildpack-stacks.ts';

const CA = '/etc/ssl/certs/ca-certificates.crt';
const APP_UID = 1000;
// This machine reaches the Python package index only through a mirror on its disk, which the host's pip is configured
// with; elsewhere pip uses its default index.
const PYPI_MIRROR = '/opt/pypi';
const pypiMirror = existsSync(join(PYPI_MIRROR, 'simple')) ? PYPI_MIRROR : undefined;

interface Completed {
  code: number;
  output: string;
}

function docker(args: string[]): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

let scratch = '';

beforeAll(async () => {
  await ensureBuildpackStacks();
  scratch = mkdtempSync(join(tmpdir(), 'deis-bundled-bp-docker-'));
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Gives a host directory tree to the build's user, as the runner does with /app and the cache. */
function chownTree(path: string): void {
  chownSync(path, APP_UID, APP_UID);
  if (!lstatSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry));
}

/** A directory owned by the build's user holding `files`. */
function tree(path: string, files: Record<string, string> = {}): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(path, file)), { recursive: true });
    writeFileSync(join(path, file), content);
  }
  chownTree(path);
  return path;
}

interface BuildDirs {
  app: string;
  cache: string;
  env: string;
}

/** Fresh source in app/ (as each push brings), and the cache and config vars kept from any earlier build. */
function buildDirs(name: string, source: Record<string, string>, config: Record<string, string> = {}, cache = join(scratch, name, 'cache')): BuildDirs {
  const base = join(scratch, name);
  if (!existsSync(cache)) tree(cache);
  return { app: tree(join(base, 'app'), source), cache, env: tree(join(base, 'env'), config) };
}

/** detect, compile and release of one bundled buildpack in a build stack container; release's YAML follows `== release`. */
function compile(buildpack: BundledBuildpack, dirs: BuildDirs): Promise<Completed> {
  const bp = `/tmp/buildpacks/01-${buildpack}`;
  const env: Record<string, string> = {
    HOME: '/app',
    STACK: 'deis-bookworm',
    SOURCE_VERSION: '0123456789abcdef0123456789abcdef01234567',
    SSL_CERT_FILE: CA,
    NODE_EXTRA_CA_CERTS: CA,
    npm_config_cafile: CA,
    PIP_CERT: CA,
    REQUESTS_CA_BUNDLE: CA,
    GIT_SSL_CAINFO: CA,
  };
  const mounts = [`${CA}:${CA}:ro`, `${dirs.app}:/app`, `${dirs.cache}:/tmp/cache`, `${dirs.env}:/tmp/env:ro`, `${join(bundledBuildpacksDir(), buildpack)}:${bp}:ro`];
  if (pypiMirror) {
    mounts.push(`${pypiMirror}:${pypiMirror}:ro`);
    env.PIP_INDEX_URL = `file://${pypiMirror}/simple`;
  }
  return docker([
    'run', '--rm', '--user', `${APP_UID}:${APP_UID}`, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--workdir', '/app',
    ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    ...mounts.flatMap((mount) => ['--volume', mount]),
    BUILD_STACK_IMAGE, 'bash', '-c', `set -e; echo "detect: $(${bp}/bin/detect /app)"; ${bp}/bin/compile /app /tmp/cache /tmp/env; echo '== release'; ${bp}/bin/release /app`,
  ]);
}

/** `command` in the run stack with the slug at /app and its .profile.d sourced, as the slug's containers run. */
function runInRunStack(app: string, command: string): Promise<Completed> {
  return docker([
    'run', '--rm', '--user', `${APP_UID}:${APP_UID}`, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--workdir', '/app',
    '--network', 'none', '--env', 'HOME=/app', '--env', 'PORT=5000', '--volume', `${app}:/app:ro`,
    RUN_STACK_IMAGE, 'bash', '-c', `shopt -s nullglob; for script in /app/.profile.d/*.sh; do . "$script"; done; ${command}`,
  ]);
}

function releaseOf(output: string): string {
  return output.slice(output.indexOf('== release\n') + '== release\n'.length);
}

const web = (command: string): string => `---\ndefault_process_types:\n  web: ${command}\n`;

describe('the Go buildpack in the build stack', () => {
  // Both Go apps share one build cache so that the standard library is compiled once for this file.
  const goCache = (): string => join(scratch, 'go-cache');

  it('builds a module with its vendor/ directory into bin/, with the binary as the web process', async () => {
    const dirs = buildDirs('go-mod', {
      'go.mod': 'module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n',
      'vendor/modules.txt': '# example.com/greet v1.0.0\n## explicit\nexample.com/greet\n',
      'vendor/example.com/greet/greet.go': 'package greet\n\nfunc Hello() string { return "hello from a vendored module" }\n',
      'main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n',
    }, {}, goCache());
    const build = await compile('go', dirs);
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('detect: Go\n');
    expect(build.output).toContain('-----> Go module example.com/hello\n       Using the vendor/ directory (-mod=vendor)\n');
    expect(build.output).toContain('       bin/hello\n');
    expect(releaseOf(build.output)).toBe(web('hello'));
    expect(readdirSync(join(goCache(), 'go', 'build')).length).toBeGreaterThan(0);

    const ran = await runInRunStack(dirs.app, 'hello');
    expect(ran).toEqual({ code: 0, output: 'hello from a vendored module\n' });
  });

  it('builds a Godeps app in GOPATH mode at its ImportPath, so its own packages resolve', async () => {
    const dirs = buildDirs('go-godeps', {
      'Godeps/Godeps.json': '{\n  "ImportPath": "github.com/example/godeps-app",\n  "GoVersion": "go1.6",\n  "Deps": []\n}\n',
      'greeting/greeting.go': 'package greeting\n\nfunc Text() string { return "hello from godeps" }\n',
      'main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"github.com/example/godeps-app/greeting"\n)\n\nfunc main() { fmt.Println(greeting.Text()) }\n',
      Procfile: 'web: godeps-app\n',
    }, {}, goCache());
    const build = await compile('go', dirs);
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('-----> Godeps app github.com/example/godeps-app (GOPATH mode)\n');
    expect(build.output).toContain('       bin/godeps-app\n');
    expect(releaseOf(build.output)).toBe(web('godeps-app'));
    expect(await runInRunStack(dirs.app, 'godeps-app')).toEqual({ code: 0, output: 'hello from godeps\n' });
  });

  it('fails with the compiler\'s message and a last line saying what failed', async () => {
    const dirs = buildDirs('go-broken', { 'main.go': 'package main\n\nfunc main() {\n' }, {}, goCache());
    const build = await compile('go', dirs);
    expect(build.code).not.toBe(0);
    expect(build.output).toMatch(/^ {7}\.\/main\.go:\d+:\d+: syntax error/m);
    expect(build.output).toContain(' !     go install failed.\n');
    expect(build.output).not.toContain('== release');
  });
});

describe('the Node.js buildpack in the build stack', () => {
  const source = {
    'package.json': JSON.stringify({
      name: 'express-app',
      version: '1.0.0',
      engines: { node: '0.10.x' },
      scripts: { start: 'node server.js' },
      dependencies: { express: '^4.21.0' },
    }),
    'server.js': 'const express = require("express");\nconsole.log("express", require("express/package.json").version.split(".")[0]);\n',
  };

  it('installs a dependency from the npm registry, warns about engines.node, and restores node_modules on a repeat build', async () => {
    const first = buildDirs('nodejs', source);
    const build = await compile('nodejs', first);
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('detect: Node.js\n');
    expect(build.output).toMatch(/^-----> WARNING: package\.json asks for Node\.js "0\.10\.x" \(engines\.node\), the stack has v18\./m);
    expect(build.output).toContain('-----> Installing dependencies: npm install --omit=dev\n');
    expect(build.output).toMatch(/^ {7}added \d+ packages/m);
    expect(releaseOf(build.output)).toBe(web('npm start'));
    expect(await runInRunStack(first.app, 'node server.js')).toEqual({ code: 0, output: 'express 4\n' });

    const again = buildDirs('nodejs', source);
    expect(existsSync(join(again.app, 'node_modules'))).toBe(false);
    const repeat = await compile('nodejs', again);
    expect(repeat.code, repeat.output).toBe(0);
    expect(repeat.output).toContain('-----> Restoring node_modules from the cache (package.json, lockfile and Node.js unchanged)\n');
    expect(repeat.output).not.toContain('Installing dependencies');
    expect(await runInRunStack(again.app, 'node server.js')).toEqual({ code: 0, output: 'express 4\n' });
  });
});

describe('the Python buildpack in the build stack', () => {
  const source = { 'requirements.txt': 'six\n', 'app.py': 'import six\nprint("six", six.__version__.split(".")[0])\n' };

  it('installs a dependency from the package index into /app/.venv, which runs in the run stack, and restores it on a repeat build', async () => {
    const first = buildDirs('python', source);
    const build = await compile('python', first);
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('detect: Python\n');
    expect(build.output).toContain('-----> Installing with pip: pip install -r requirements.txt\n');
    expect(build.output).toMatch(/^ {7}Successfully installed six-/m);
    expect(releaseOf(build.output)).toBe(web('python app.py'));
    expect(await runInRunStack(first.app, 'python app.py')).toEqual({ code: 0, output: 'six 1\n' });

    const again = buildDirs('python', source);
    const repeat = await compile('python', again);
    expect(repeat.code, repeat.output).toBe(0);
    expect(repeat.output).toContain('-----> Restoring the virtualenv from the cache (requirements and Python unchanged)\n');
    expect(repeat.output).not.toContain('pip install');
    expect(await runInRunStack(again.app, 'python app.py')).toEqual({ code: 0, output: 'six 1\n' });
  });
});

describe('the static buildpack', () => {
  it('serves the site from the run stack\'s Node.js', async () => {
    const dirs = buildDirs('static', { 'index.html': '<h1>static site</h1>\n' });
    const build = await compile('static', dirs);
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('detect: Static HTML\n');
    expect(releaseOf(build.output)).toBe(web('node .static/server.mjs'));
    // The server says when it listens; the request follows that line.
    const ran = await runInRunStack(
      dirs.app,
      'node .static/server.mjs > /tmp/server.log & until grep -q "on port" /tmp/server.log; do kill -0 $! || exit 1; sleep 0.05; done; curl -sS http://127.0.0.1:$PORT/; curl -sS -o /dev/null -w "%{http_code}\\n" --path-as-is http://127.0.0.1:$PORT/../etc/passwd',
    );
    expect(ran).toEqual({ code: 0, output: '<h1>static site</h1>\n404\n' });
  });
});
