/**
 * Buildpack apps end to end, as a developer pushes them: `deis create`, `git push` over SSH of plain source code,
 * then HTTP through the router and `deis run` in the slug's environment. One platform instance for the file; each
 * app its own story (first push, what it serves, a one-off run, a second push that reuses the build cache).
 * Heroku's well-known buildpack URLs use the bundled buildpacks at once (DEIS_BUILDPACK_PREFER_BUNDLED), since no
 * traffic may leave this machine.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuildpackStacks } from '@deis/builder/buildpack-stacks';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo, sshCommand } from './drivers/git.ts';
import type { AppRepo } from './drivers/git.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';

let platform: PlatformInstance;
let user: CliUser;
const suffix = Math.random().toString(36).slice(2, 6);
const scratch = mkdtempSync(join(tmpdir(), 'deis-e2e-buildpacks-'));

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

/** The lines git relays from the builder, without git's `remote: ` prefix. */
function remoteLines(result: Completed): string[] {
  return `${result.stdout}${result.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('remote: '))
    .map((line) => line.slice('remote: '.length).replace(/\s+$/, ''));
}

/** Creates the app from a sample's directory with a remote to this platform's builder. */
async function createApp(sample: string, name: string): Promise<AppRepo> {
  const repo = await sampleAppRepo(sample, user.env);
  expectOk(await user.deis(['create', name], { cwd: repo.dir }));
  expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${name}.git`]));
  return repo;
}

async function push(repo: AppRepo): Promise<Completed> {
  return repo.git(['push', 'deis', 'main']);
}

async function served(app: string, text: string): Promise<string> {
  const response = await pollRouter(platform.routerPort, `${app}.${platform.domain}`, (r) => r.status === 200 && r.body.includes(text), { timeoutMs: 30_000 });
  expect(response.body).toContain(text);
  return response.body;
}

/** The output of `deis run` without its `Running '...'...` banner. */
async function runIn(app: string, command: string): Promise<string> {
  const result = expectOk(await user.deis(['run', '-a', app, '--', command]));
  return result.stdout.split('\n').filter((line) => !line.startsWith('Running ')).join('\n').trim();
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd, stdio: 'ignore' });
}

/** A buildpack as a local git repository (outside the platform's data directory), committed on main. */
function localBuildpack(name: string, bin: { detect?: string; compile: string; release?: string }): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'bin', 'detect'), `#!/bin/bash\n${bin.detect ?? `echo ${name}`}\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'compile'), `#!/bin/bash\nset -e\n${bin.compile}\n`, { mode: 0o755 });
  if (bin.release) writeFileSync(join(dir, 'bin', 'release'), `#!/bin/bash\n${bin.release}\n`, { mode: 0o755 });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', name);
  return `file://${dir}`;
}

beforeAll(async () => {
  // `./platform test` makes the stacks before any test; a file run alone makes them here, not inside its first push.
  await ensureBuildpackStacks();
  platform = await startPlatform({ DEIS_BUILDPACK_PREFER_BUNDLED: 'true' });
  user = newCliUser();
  const keyPath = join(user.home, '.ssh', 'id_ed25519');
  mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
  expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', keyPath]));
  user.env.GIT_SSH_COMMAND = sshCommand(keyPath, platform.sshPort);
  expectOk(await user.deis(['register', platform.controllerUrl, '--username=grace', '--password=correct-horse-battery', '--email=grace@example.test']));
  expectOk(await user.deis(['keys:add', `${keyPath}.pub`]));
}, 600_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Go', () => {
  const app = `go-${suffix}`;
  let repo: AppRepo;

  it('builds a Godeps app with the stack Go and runs the Procfile binary', async () => {
    repo = await createApp('go-godeps', app);
    const pushed = expectOk(await push(repo));
    const lines = remoteLines(pushed);
    expect(lines).toContain('Starting build... but first, coffee!');
    expect(lines).toContain('-----> Go app detected');
    expect(lines).toContain('-----> Discovering process types');
    expect(lines).toContain('       Procfile declares types -> web');
    expect(lines.some((line) => /^-----> Compiled slug size is \d+(\.\d)?[KM]$/.test(line))).toBe(true);
    expect(lines).toContain('Build complete.');
    expect(lines).toContain(`Done, ${app}:v2 deployed to Workflow`);
    await served(app, 'Powered by Deis (Go) release v2');
    const ps = expectOk(await user.deis(['ps', '-a', app]));
    expect(ps.stdout).toMatch(new RegExp(`^${app}-web-\\d+-[a-z0-9]{5} up \\(v2\\)$`, 'm'));
  });

  it('runs one-off commands in the slug environment', async () => {
    expect(await runIn(app, 'echo "$HOME $PORT $(id -un)"; command -v hello-go')).toBe('/app 5000 app\n/app/bin/hello-go');
  });

  it('shows the build type and Procfile in deis builds', async () => {
    const builds = expectOk(await user.deis(['builds', '-a', app]));
    expect(builds.stdout).toMatch(/^[0-9a-f-]{36} \S+ buildpack web$/m);
    const json = JSON.parse(expectOk(await user.deis(['builds', '-a', app, '--json'])).stdout) as Array<{ procfile: Record<string, string>; dockerfile: string; sha: string }>;
    expect(json[0]).toMatchObject({ procfile: { web: 'hello-go' }, dockerfile: '' });
  });

  it('reuses the build cache on the next push', async () => {
    await repo.commitFile('main.go', readFileSync(join(repo.dir, 'main.go'), 'utf8').replace('(Go)', '(Go, again)'), 'again');
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Using the Go build cache of the previous build');
    await served(app, 'Powered by Deis (Go, again) release v3');
  });
});

describe('Node.js', () => {
  const app = `node-${suffix}`;
  let repo: AppRepo;

  it('installs from the npm registry, warns about an engines.node the stack lacks, and serves npm start', async () => {
    repo = await createApp('node-express', app);
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Node.js app detected');
    expect(lines.some((line) => line.startsWith('-----> WARNING') && line.includes('0.10.x'))).toBe(true);
    expect(lines).toContain('       Procfile declares types     -> (none)');
    expect(lines).toContain('       Default types for buildpack -> web');
    const body = await served(app, 'Powered by Deis (Node.js v18');
    expect(body).toMatch(/express 4\.\d+\.\d+\) release v2/);
  });

  it('runs one-off commands with the installed modules', async () => {
    expect(await runIn(app, 'node -p "require(\'express/package.json\').name"')).toBe('express');
  });

  it('restores node_modules from the cache when the dependencies did not change', async () => {
    await repo.commitFile('server.js', readFileSync(join(repo.dir, 'server.js'), 'utf8').replace('Powered by', 'Still powered by'), 'again');
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines.some((line) => line.startsWith('-----> Restoring node_modules from the cache'))).toBe(true);
    await served(app, 'Still powered by Deis');
  });
});

describe('Python', () => {
  const app = `py-${suffix}`;
  let repo: AppRepo;

  it('installs requirements from the package index into a venv and runs python app.py', async () => {
    repo = await createApp('python-web', app);
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Python app detected');
    expect(lines).toContain('       Default types for buildpack -> web');
    await served(app, 'Powered by Deis (Python, six 1.17.0) release v2');
  });

  it('runs one-off commands with the venv first on PATH', async () => {
    expect(await runIn(app, 'command -v python; python -c "import six; print(six.__version__)"')).toBe('/app/.venv/bin/python\n1.17.0');
  });

  it('reuses the venv from the cache on the next push', async () => {
    await repo.commitFile('app.py', readFileSync(join(repo.dir, 'app.py'), 'utf8').replace('Powered by', 'Again powered by'), 'again');
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Restoring the virtualenv from the cache (requirements and Python unchanged)');
    await served(app, 'Again powered by Deis');
  });
});

describe('static sites and Procfile apps', () => {
  it('serves a static site and its files', async () => {
    const app = `static-${suffix}`;
    const repo = await createApp('static-site', app);
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Static HTML app detected');
    await served(app, 'Powered by Deis (static site)');
    const css = await viaRouter(platform.routerPort, `${app}.${platform.domain}`, '/css/site.css');
    expect(css.status).toBe(200);
    expect(css.body).toBe('body { color: #333; }\n');
    expect((await viaRouter(platform.routerPort, `${app}.${platform.domain}`, '/missing.html')).status).toBe(404);
    expect(await runIn(app, 'ls .static; echo $HOME')).toBe('server.mjs\n/app');
  });

  it('runs a Procfile-only app with what the stack has', async () => {
    const app = `proc-${suffix}`;
    const repo = await createApp('procfile-only', app);
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Procfile app detected');
    expect(lines).toContain('       Procfile declares types -> web');
    await served(app, 'Powered by Deis (Procfile) release v2');
    expect(await runIn(app, 'echo $DEIS_APP')).toBe(app);
  });
});

describe('custom buildpacks', () => {
  const serveWww = "cat <<'YAML'\n---\ndefault_process_types:\n  web: cd www && exec python3 -m http.server $PORT\nYAML";

  it('builds with BUILDPACK_URL from a local git repository, with config in ENV_DIR and its own cache', async () => {
    const url = localBuildpack('custom-bp', {
      detect: 'echo Custom',
      compile: [
        'mkdir -p "$1/www"',
        'if [ -f "$2/seen" ]; then echo "       custom cache hit"; fi',
        'touch "$2/seen"',
        'echo "Built by the custom buildpack for $(cat "$3/AUDIENCE")" > "$1/www/index.html"',
      ].join('\n'),
      release: serveWww,
    });
    const app = `custom-${suffix}`;
    const repo = await createApp('static-site', app);
    expectOk(await user.deis(['config:set', `BUILDPACK_URL=${url}`, 'AUDIENCE=testers', '-a', app]));
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines).toContain('-----> Fetching custom buildpack');
    expect(lines).toContain('-----> Custom app detected');
    expect(lines).not.toContain('       custom cache hit');
    await served(app, 'Built by the custom buildpack for testers');
    expect(await runIn(app, 'cat www/index.html')).toBe('Built by the custom buildpack for testers');

    await repo.commitFile('extra.txt', 'more', 'again');
    expect(remoteLines(expectOk(await push(repo)))).toContain('       custom cache hit');
  });

  it('chains the buildpacks of .buildpacks, each seeing the export of the one before', async () => {
    const first = localBuildpack('chain-first', {
      compile: 'echo "       first runs"\necho "export CHAIN_GREETING=hello-from-first" > "$(dirname "$0")/../export"',
    });
    const second = localBuildpack('chain-second', {
      compile: 'mkdir -p "$1/www"\necho "second saw $CHAIN_GREETING" > "$1/www/index.html"',
      release: serveWww,
    });
    const app = `chain-${suffix}`;
    const repo = await createApp('static-site', app);
    await repo.commitFile('.buildpacks', `${first}\n${second}\n`, 'buildpacks');
    const lines = remoteLines(expectOk(await push(repo)));
    expect(lines.filter((line) => line === '-----> Fetching custom buildpack')).toHaveLength(2);
    expect(lines).toContain('-----> chain-first app detected');
    expect(lines).toContain('-----> chain-second app detected');
    await served(app, 'second saw hello-from-first');
    expect(await runIn(app, 'cat www/index.html')).toBe('second saw hello-from-first');
  });

  it('ends the push when a buildpack exits 1 and keeps the running release', async () => {
    const bad = localBuildpack('heroku-buildpack-bad', { compile: 'echo "-----> Failing on purpose"\nexit 1' });
    const app = `bad-${suffix}`;
    const repo = await createApp('static-site', app);
    expectOk(await push(repo));
    await served(app, 'Powered by Deis (static site)');
    expectOk(await user.deis(['config:set', `BUILDPACK_URL=${bad}`, '-a', app]));
    await repo.commitFile('index.html', 'never served', 'broken');
    const failed = await push(repo);
    expect(failed.code).not.toBe(0);
    const lines = remoteLines(failed);
    expect(lines).toContain('-----> Fetching custom buildpack');
    expect(lines).toContain('-----> Failing on purpose');
    expect(lines).toContain('heroku-buildpack-bad exited with code 1, stopping build');
    expect(`${failed.stdout}${failed.stderr}`).toContain('failed to push some refs');
    expect((await viaRouter(platform.routerPort, `${app}.${platform.domain}`)).body).toContain('Powered by Deis (static site)');
  });
});
