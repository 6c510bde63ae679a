/**
 * The bundled buildpacks on this host: each bin/detect on sample apps, the detection order, each bin/release's YAML,
 * the static site's server (compiled into a site, then run with the host's Node.js), the engines.node check, and the
 * module that finds the buildpacks and maps Heroku's buildpack URLs to them. Compiles that need the build stack are in
 * bundled-buildpacks.docker.test.ts.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_BUILDPACKS, bundledBuildpacksDir, wellKnownBuildpack } from './bundled-buildpacks.ts';
import type { BundledBuildpack } from './bundled-buildpacks.ts';

const DIR = bundledBuildpacksDir();
let scratch = '';
let apps = 0;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'deis-bundled-bp-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A directory holding `files` (paths may have directories). */
function sampleApp(files: Record<string, string>): string {
  apps += 1;
  const dir = join(scratch, `app-${apps}`);
  mkdirSync(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runScript(buildpack: BundledBuildpack, name: 'detect' | 'compile' | 'release', args: string[]): ScriptResult {
  const result = spawnSync(join(DIR, buildpack, 'bin', name), args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What the runner shows: the first buildpack, in order, whose detect succeeds, by the name it prints. */
function detected(dir: string): string | undefined {
  for (const buildpack of BUNDLED_BUILDPACKS) {
    const result = runScript(buildpack, 'detect', [dir]);
    if (result.status === 0) return result.stdout.trim();
  }
  return undefined;
}

function release(buildpack: BundledBuildpack, files: Record<string, string>): string {
  const result = runScript(buildpack, 'release', [sampleApp(files)]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

const web = (command: string): string => `---\ndefault_process_types:\n  web: ${command}\n`;
const NO_TYPES = '---\ndefault_process_types: {}\n';

describe('the bundled buildpacks on disk', () => {
  it('are found, each with executable bin/detect, bin/compile and bin/release', () => {
    expect(DIR.endsWith(join('packages', 'builder', 'buildpacks'))).toBe(true);
    for (const buildpack of BUNDLED_BUILDPACKS) {
      for (const name of ['detect', 'compile', 'release']) {
        const mode = statSync(join(DIR, buildpack, 'bin', name)).mode;
        expect(mode & 0o111, `${buildpack}/bin/${name}`).toBe(0o111);
      }
    }
  });

  it('are found from the bundle in <repo>/dist too, and a missing directory is an error naming where it looked', () => {
    const repo = join(DIR, '..', '..', '..');
    expect(bundledBuildpacksDir(join(repo, 'dist'))).toBe(DIR);
    expect(() => bundledBuildpacksDir(join(scratch, 'dist'))).toThrow(`The bundled buildpacks are missing: looked in ${join(scratch, 'buildpacks')}`);
  });
});

describe('bin/detect', () => {
  // One marker file per language; each detect answers for its own language only, the runner's order does the rest.
  const markers: Record<BundledBuildpack, [string, string]> = {
    go: ['go.mod', 'module example.com/hello\n'],
    nodejs: ['package.json', '{}'],
    python: ['requirements.txt', 'six\n'],
    static: ['index.html', '<h1>hi</h1>'],
    procfile: ['Procfile', 'web: ./run\n'],
  };
  const names: Record<BundledBuildpack, string> = { go: 'Go', nodejs: 'Node.js', python: 'Python', static: 'Static HTML', procfile: 'Procfile' };

  it('succeeds with the display name only for its own language', () => {
    for (const language of BUNDLED_BUILDPACKS) {
      const [file, content] = markers[language];
      const dir = sampleApp({ [file]: content });
      for (const buildpack of BUNDLED_BUILDPACKS) {
        const result = runScript(buildpack, 'detect', [dir]);
        if (buildpack === language) {
          expect(result, `${buildpack} on ${file}`).toMatchObject({ status: 0, stdout: `${names[buildpack]}\n` });
        } else {
          expect(result.status, `${buildpack} on ${file}`).toBe(1);
          expect(result.stdout).toBe('');
        }
      }
    }
  });

  it('Go: go.mod, Godeps/Godeps.json or .go files at the root', () => {
    expect(runScript('go', 'detect', [sampleApp({ 'Godeps/Godeps.json': '{"ImportPath": "example.com/hello"}' })]).status).toBe(0);
    expect(runScript('go', 'detect', [sampleApp({ 'main.go': 'package main\n' })]).status).toBe(0);
    expect(runScript('go', 'detect', [sampleApp({ 'cmd/server/main.go': 'package main\n' })]).status).toBe(1);
    expect(runScript('go', 'detect', [sampleApp({ 'Godeps/README': '' })]).status).toBe(1);
    expect(runScript('go', 'detect', [sampleApp({ 'docs.go/README': '' })]).status).toBe(1);
  });

  it('Python: requirements.txt, setup.py or pyproject.toml; Node.js and static only at the root', () => {
    expect(runScript('python', 'detect', [sampleApp({ 'setup.py': '' })]).stdout).toBe('Python\n');
    expect(runScript('python', 'detect', [sampleApp({ 'pyproject.toml': '' })]).stdout).toBe('Python\n');
    expect(runScript('python', 'detect', [sampleApp({ 'app.py': '', Pipfile: '' })]).status).toBe(1);
    expect(runScript('nodejs', 'detect', [sampleApp({ 'web/package.json': '{}' })]).status).toBe(1);
    expect(runScript('static', 'detect', [sampleApp({ 'public/index.html': '' })]).status).toBe(1);
    expect(runScript('procfile', 'detect', [sampleApp({ 'Procfile.dev': 'web: x' })]).status).toBe(1);
  });

  it('in the runner order go, nodejs, python, static, procfile picks the first that answers', () => {
    expect(BUNDLED_BUILDPACKS).toEqual(['go', 'nodejs', 'python', 'static', 'procfile']);
    expect(detected(sampleApp({ 'package.json': '{}', 'index.html': '' }))).toBe('Node.js');
    expect(detected(sampleApp({ 'go.mod': 'module x\n', 'package.json': '{}', Procfile: 'web: x' }))).toBe('Go');
    expect(detected(sampleApp({ 'requirements.txt': '', 'index.html': '', Procfile: 'web: x' }))).toBe('Python');
    expect(detected(sampleApp({ 'index.html': '', Procfile: 'web: x' }))).toBe('Static HTML');
    expect(detected(sampleApp({ Procfile: 'web: ./run', run: '' }))).toBe('Procfile');
    expect(detected(sampleApp({ 'README.md': '' }))).toBeUndefined();
  });
});

describe('bin/release', () => {
  it('Go: the one binary compile built is the web process; none or several give no default', () => {
    expect(release('go', { 'go.mod': 'module x\n', '.heroku/go/binaries': 'hello\n' })).toBe(web('hello'));
    expect(release('go', { 'go.mod': 'module x\n', '.heroku/go/binaries': 'api\nworker\n' })).toBe(NO_TYPES);
    expect(release('go', { 'go.mod': 'module x\n' })).toBe(NO_TYPES);
  });

  it('Node.js: npm start with a start script, else node server.js when it exists', () => {
    expect(release('nodejs', { 'package.json': '{"scripts": {"start": "node index.js"}}', 'server.js': '' })).toBe(web('npm start'));
    expect(release('nodejs', { 'package.json': '{"scripts": {"build": "tsc"}}', 'server.js': '' })).toBe(web('node server.js'));
    expect(release('nodejs', { 'package.json': '{"scripts": {"start": ""}}', 'server.js': '' })).toBe(web('node server.js'));
    expect(release('nodejs', { 'package.json': 'not json', 'server.js': '' })).toBe(web('node server.js'));
    expect(release('nodejs', { 'package.json': '{"scripts": {"test": "vitest"}}' })).toBe(NO_TYPES);
  });

  it('Python: gunicorn for wsgi.py or app.py when it is a requirement, else python app.py', () => {
    expect(release('python', { 'requirements.txt': 'flask\ngunicorn==21.2.0\n', 'app.py': '' })).toBe(web('gunicorn app:app --bind 0.0.0.0:$PORT'));
    expect(release('python', { 'requirements.txt': 'Gunicorn[gevent]>=20\r\n', 'app.py': '', 'wsgi.py': '' })).toBe(web('gunicorn wsgi:app --bind 0.0.0.0:$PORT'));
    expect(release('python', { 'pyproject.toml': '[project]\ndependencies = ["gunicorn>=20"]\n', 'app.py': '' })).toBe(web('gunicorn app:app --bind 0.0.0.0:$PORT'));
    expect(release('python', { 'requirements.txt': 'gunicorn-extras\n# gunicorn\n', 'app.py': '' })).toBe(web('python app.py'));
    expect(release('python', { 'requirements.txt': 'gunicorn\n', 'wsgi.py': '', 'app.py': '' })).toBe(web('gunicorn wsgi:app --bind 0.0.0.0:$PORT'));
    expect(release('python', { 'requirements.txt': 'gunicorn\n', 'main.py': '' })).toBe(NO_TYPES);
  });

  it('Static: the server compile puts in the slug; Procfile: none, the Procfile is used', () => {
    expect(release('static', { 'index.html': '' })).toBe(web('node .static/server.mjs'));
    expect(release('procfile', { Procfile: 'web: ./run\n' })).toBe(NO_TYPES);
    const compiled = runScript('procfile', 'compile', [sampleApp({ Procfile: 'web: ./run\n' }), join(scratch, 'cache'), join(scratch, 'env')]);
    expect(compiled).toMatchObject({ status: 0, stdout: expect.stringMatching(/^-----> Nothing to compile/) });
  });
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with the path sent exactly as given (fetch would resolve the `..` in it first). */
function send(port: number, method: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the static site server', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  let site = '';

  beforeAll(async () => {
    const root = sampleApp({
      'outside.txt': 'SECRET outside the site',
      'site/index.html': '<h1>home</h1>',
      'site/style.css': 'h1 { color: red }',
      'site/sub/index.html': '<h1>sub</h1>',
      'site/empty/.keep': '',
      'site/404.html': '<h1>no such page</h1>',
      'site/.env': 'SECRET dotfile',
    });
    site = join(root, 'site');
    symlinkSync(join(root, 'outside.txt'), join(site, 'link.txt'));
    const compiled = runScript('static', 'compile', [site, join(scratch, 'cache'), join(scratch, 'env')]);
    expect(compiled.status, compiled.stderr).toBe(0);
    expect(compiled.stdout).toMatch(/^-----> /);
    expect(existsSync(join(site, '.static', 'server.mjs'))).toBe(true);

    // PORT=0: the server picks a free port and says which.
    const child = spawn(process.execPath, [join(site, '.static', 'server.mjs')], {
      cwd: site,
      env: { PATH: process.env.PATH, PORT: '0', STATIC_SERVER_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    server = child;
    port = await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = / on port (\d+)/.exec(output);
        if (match?.[1]) resolve(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`the static server exited with ${code}: ${output}`)));
    });
  });
  afterAll(() => {
    server?.kill();
  });

  it('serves files with their content type, and index.html for a directory', async () => {
    const home = await send(port, 'GET', '/');
    expect(home).toMatchObject({ status: 200, body: '<h1>home</h1>' });
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    const css = await send(port, 'GET', '/style.css?v=2');
    expect(css).toMatchObject({ status: 200, body: 'h1 { color: red }' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(await send(port, 'GET', '/sub/')).toMatchObject({ status: 200, body: '<h1>sub</h1>' });
    const redirect = await send(port, 'GET', '/sub?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/sub/?x=1');
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await send(port, 'HEAD', '/style.css');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe(String('h1 { color: red }'.length));
  });

  it('answers 404 (with the site\'s 404.html) for missing files and directories without index.html', async () => {
    expect(await send(port, 'GET', '/missing.txt')).toMatchObject({ status: 404, body: '<h1>no such page</h1>' });
    expect((await send(port, 'GET', '/empty/')).status).toBe(404);
  });

  it('never leaves the site root, nor serves dotfiles or its own server file', async () => {
    for (const path of ['/../outside.txt', '/sub/../../outside.txt', '/%2e%2e/outside.txt', '/%2E%2E%2Foutside.txt', '/link.txt', '/.env', '/.static/server.mjs']) {
      const reply = await send(port, 'GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.body, path).not.toContain('SECRET');
      expect(reply.body, path).not.toContain('import');
    }
    expect((await send(port, 'GET', '/%zz')).status).toBe(400);
  });

  it('refuses other methods', async () => {
    const post = await send(port, 'POST', '/');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});

describe('the Node.js buildpack\'s engines.node check', () => {
  function engines(fn: 'node_engine_verdict' | 'node_engine_report', range: string, version = 'v18.19.0'): string {
    const result = spawnSync('bash', ['-c', 'source "$0"; "$1" "$2" "$3"', join(DIR, 'nodejs', 'lib', 'engines.sh'), fn, range, version], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    return result.stdout;
  }

  it('compares the major version of plain versions and x-ranges, and the full version of >= bounds', () => {
    const cases: Record<string, string> = {
      '': 'ok', '*': 'ok', '18': 'ok', '18.x': 'ok', '18.x.x': 'ok', 'v18.19.0': 'ok', '^18.2.0': 'ok', '~18.19': 'ok', ' 18.* ': 'ok',
      '>=16': 'ok', '>= 18.19.0': 'ok', '>=18.x': 'ok',
      '0.10.x': 'unsatisfied', '8.x': 'unsatisfied', '20': 'unsatisfied', '^22.1.0': 'unsatisfied', '>=18.20': 'unsatisfied', '>=20.0.0': 'unsatisfied',
      '18.x || 20.x': 'unchecked', '<19': 'unchecked', '>18': 'unchecked', '16 - 20': 'unchecked', 'lts/*': 'unchecked', '99999999999999999999': 'unchecked',
    };
    for (const [range, verdict] of Object.entries(cases)) expect(engines('node_engine_verdict', range), `"${range}"`).toBe(`${verdict}\n`);
    expect(engines('node_engine_verdict', '20.x', 'v20.11.1')).toBe('ok\n');
  });

  it('warns about an unsatisfied range, and says when a range was not checked', () => {
    expect(engines('node_engine_report', '0.10.x')).toBe(
      '-----> WARNING: package.json asks for Node.js "0.10.x" (engines.node), the stack has v18.19.0: building with v18.19.0 anyway\n',
    );
    expect(engines('node_engine_report', '18.x || 20.x')).toBe('       engines.node "18.x || 20.x" was not checked against the stack\'s Node.js v18.19.0\n');
    expect(engines('node_engine_report', '>=16')).toBe('       engines.node ">=16" is satisfied by the stack\'s Node.js v18.19.0\n');
    expect(engines('node_engine_report', '')).toMatch(/^ {7}engines\.node is not set/);
  });
});

describe('wellKnownBuildpack', () => {
  it('maps Heroku\'s official buildpack URLs and shorthands to the bundled buildpack', () => {
    const cases: Record<string, BundledBuildpack> = {
      'https://github.com/heroku/heroku-buildpack-nodejs': 'nodejs',
      'https://github.com/heroku/heroku-buildpack-nodejs.git': 'nodejs',
      'https://github.com/heroku/heroku-buildpack-nodejs.git#v210': 'nodejs',
      'https://github.com/heroku/heroku-buildpack-nodejs#main': 'nodejs',
      'http://github.com/heroku/heroku-buildpack-go': 'go',
      'git@github.com:heroku/heroku-buildpack-go.git': 'go',
      'ssh://git@github.com/heroku/heroku-buildpack-python.git': 'python',
      'git://github.com/heroku/heroku-buildpack-python.git': 'python',
      'https://github.com/heroku/heroku-buildpack-static.git': 'static',
      'https://GitHub.com/Heroku/heroku-buildpack-python/': 'python',
      'heroku/nodejs': 'nodejs',
      'heroku/go': 'go',
      'heroku/python': 'python',
      'heroku/static': 'static',
      'https://buildpack-registry.s3.amazonaws.com/buildpacks/heroku/nodejs.tgz': 'nodejs',
    };
    for (const [url, buildpack] of Object.entries(cases)) expect(wellKnownBuildpack(url), url).toBe(buildpack);
  });

  it('leaves every other URL alone', () => {
    for (const url of [
      'https://github.com/heroku/heroku-buildpack-ruby',
      'https://github.com/someone/heroku-buildpack-nodejs',
      'https://github.com/heroku/heroku-buildpack-nodejs-extra.git',
      'https://example.com/heroku/heroku-buildpack-nodejs.git',
      'https://github.com.evil.example/heroku/heroku-buildpack-go',
      'file:///srv/buildpacks/heroku-buildpack-go',
      'heroku/ruby',
      'nodejs',
      '',
    ]) {
      expect(wellKnownBuildpack(url), url).toBeUndefined();
    }
  });
});
