/**
 * The builder end to end against a fake controller: real `git push` over SSH and smart HTTP, real Docker builds.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildHookRequest } from '@deis/sdk/types';
import { startBuilder } from './builder.ts';
import { ensureBuildpackStacks } from './buildpack-stacks.ts';
import type { RunningBuilder } from './builder.ts';
import { md5Fingerprint } from './fingerprint.ts';

const BUILDER_KEY = 'builder-test-key-0123456789';
const TOKEN = randomBytes(20).toString('hex');
const RUN = randomBytes(3).toString('hex');
const BASE_IMAGE = `deis-builder-test-base-${RUN}:busybox`;
const app = (name: string): string => `bt${RUN}-${name}`;
/** A fixed uuid per app name, as the controller keeps one per app. */
const appUuid = (name: string): string => `00000000-0000-4000-8000-${Buffer.from(name).toString('hex').padEnd(12, '0').slice(-12)}`;

interface Completed {
  code: number;
  output: string;
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onSpawn?: (kill: () => void) => void;
  onOutput?: (output: string) => void;
}

function run(program: string, args: string[], options: RunOptions = {}): Promise<Completed> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that killing it also kills the ssh that git starts, as a pusher's Ctrl-C would.
    const child = spawn(program, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      options.onOutput?.(output);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
    options.onSpawn?.(() => process.kill(-(child.pid ?? 0), 'SIGKILL'));
  });
}

/** A controller that answers the builder's calls and remembers them. */
class FakeController {
  readonly builds: BuildHookRequest[] = [];
  readonly configCalls: string[] = [];
  fingerprint = '';
  version = 1;
  /** While set, the build hook waits for it: a push stays in progress. */
  hold: Promise<void> | null = null;
  deployError: string | null = null;
  /** Sent as the build hook's `Warning`, as a deploy whose new containers are not ready yet sends it. */
  warning: string | null = null;
  server: Server = createServer((req, res) => void this.#handle(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const reply = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const url = req.url ?? '';
    if (url.startsWith('/v2/hooks/')) {
      if (req.headers['x-deis-builder-auth'] !== BUILDER_KEY) return reply(403, { detail: 'You do not have permission to perform this action.' });
      const key = /^\/v2\/hooks\/key\/(.+)$/.exec(url);
      if (key) {
        if (decodeURIComponent(key[1] ?? '') !== this.fingerprint) return reply(404, 'No Key matches the given query.');
        return reply(200, { username: 'alice', apps: [app('web'), app('http'), app('broken'), app('busy'), app('nodocker'), app('forbidden'), app('deployfail'), app('cached'), app('cached2'), app('nocache'), app('slow'), app('limits'), app('sleepy')] });
      }
      if (url === '/v2/hooks/config/' && req.method === 'POST') {
        this.configCalls.push(String(body.receive_repo));
        if (body.receive_repo === app('forbidden')) return reply(403, { detail: 'You do not have permission to perform this action.' });
        const values: Record<string, string> = { DEIS_DOCKER_BUILD_ARGS_ENABLED: '1', GREETING: 'hello-from-config' };
        if (body.receive_repo === app('nocache')) values.DEIS_DISABLE_CACHE = 'true';
        return reply(200, { values });
      }
      if (url === '/v2/hooks/app/' && req.method === 'POST') {
        if (body.receive_repo === app('forbidden')) return reply(403, { detail: 'You do not have permission to perform this action.' });
        return reply(200, { id: body.receive_repo, uuid: appUuid(String(body.receive_repo)) });
      }
      // Which images a build may read is the controller's rule, tested with it (hooks/image-hook.test.ts).
      if (url === '/v2/hooks/image/' && req.method === 'POST') return reply(200, {});
      if (url === '/v2/hooks/build/' && req.method === 'POST') {
        this.builds.push(body as unknown as BuildHookRequest);
        if (this.hold) await this.hold;
        if (body.receive_repo === app('deployfail')) return reply(400, { detail: 'web container failed to become ready' });
        if (this.warning) res.setHeader('warning', `199 deis "${this.warning}"`);
        this.version += 1;
        return reply(200, { release: { version: this.version } });
      }
    }
    if (req.headers.authorization !== `token ${TOKEN}`) return reply(401, { detail: 'Invalid token.' });
    if (url === '/v2/auth/whoami/') return reply(200, { username: 'alice' });
    const appMatch = /^\/v2\/apps\/([^/]+)\/$/.exec(url);
    if (appMatch) return appMatch[1] === app('forbidden') ? reply(403, { detail: 'no' }) : reply(200, { id: appMatch[1], uuid: appUuid(appMatch[1] ?? '') });
    reply(404, 'Not found.');
  }
}

const docker = new Dockerode();
const controller = new FakeController();
let builder: RunningBuilder;
let work: string;
let keyPath: string;

async function makeBaseImage(): Promise<void> {
  const context = join(work, 'base');
  rmSync(context, { recursive: true, force: true });
  await run('mkdir', ['-p', context]);
  await run('cp', ['/bin/busybox', join(context, 'busybox')]);
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n');
  const tar = spawn('tar', ['-c', '-C', context, '.'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const stream = await docker.buildImage(tar.stdout, { t: BASE_IMAGE, rm: true, forcerm: true });
  await new Promise((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve(undefined))));
}

/** A one-commit repository of the given files. */
async function appRepo(files: Record<string, string>): Promise<{ dir: string; sha: string }> {
  const dir = mkdtempSync(join(work, 'app-'));
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  const git = (args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
  await git(['init', '-q', '-b', 'main']);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'first']);
  const sha = (await git(['rev-parse', 'HEAD'])).output.trim();
  return { dir, sha };
}

const sshCommand = (): string =>
  `ssh -i ${keyPath} -p ${builder.sshPort} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;

function sshPush(dir: string, appName: string, options: Pick<RunOptions, 'onSpawn' | 'onOutput'> = {}): Promise<Completed> {
  return run('git', ['push', `ssh://git@127.0.0.1:${builder.sshPort}/${appName}.git`, 'main'], {
    cwd: dir,
    env: { GIT_SSH_COMMAND: sshCommand(), GIT_TERMINAL_PROMPT: '0' },
    ...options,
  });
}

function httpPush(dir: string, appName: string, token = TOKEN): Promise<Completed> {
  return run('git', ['push', `http://alice:${token}@127.0.0.1:${builder.httpPort}/${appName}.git`, 'main'], { cwd: dir, env: { GIT_TERMINAL_PROMPT: '0' } });
}

const dockerfile = (extra = ''): string =>
  `FROM ${BASE_IMAGE}\nARG GREETING\nRUN echo "greeting=$GREETING" > /greeting.txt && cat /greeting.txt\n${extra}EXPOSE 5000\nCMD ["/bin/busybox", "httpd", "-f", "-p", "5000"]\n`;

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deis-builder-test-'));
  keyPath = join(work, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
  controller.fingerprint = md5Fingerprint(Buffer.from(readFileSync(`${keyPath}.pub`, 'utf8').split(' ')[1] ?? '', 'base64'));
  await makeBaseImage();
  // The push no buildpack can build needs the stacks; `./platform test` has made them, a run of this file alone makes them here.
  await ensureBuildpackStacks({ docker });
  builder = await startBuilder({
    controllerUrl: await controller.listen(),
    builderKey: BUILDER_KEY,
    dataDir: join(work, 'data'),
    sshPort: 0,
    httpPort: 0,
    hostKeyPath: join(work, 'data', 'ssh_host_ed25519_key'),
    docker,
    buildLimits: { memoryBytes: 300 * 1024 * 1024, cpus: 1, pidsLimit: 512 },
    // Long enough for every build here but the one that sleeps past it.
    buildTimeoutMs: 40_000,
    log: () => undefined,
  });
});

afterAll(async () => {
  await builder?.stop();
  controller.server.close();
  const images = await docker.listImages();
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag.includes(`bt${RUN}-`) || tag === BASE_IMAGE) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('git push to the builder', () => {
  it('builds a Dockerfile app pushed over SSH, reports it to the controller, and tells the pusher', async () => {
    const repo = await appRepo({ Dockerfile: dockerfile(), Procfile: 'web: /bin/busybox httpd -f -p 5000\n' });
    controller.warning = 'v2 is current, but its web containers are not ready yet';
    const pushed = await sshPush(repo.dir, app('web'));
    controller.warning = null;
    expect(pushed.output).toContain('remote: !    v2 is current, but its web containers are not ready yet');
    expect(pushed.output).toContain('remote: Starting build... but first, coffee!');
    expect(pushed.code).toBe(0);
    // The build args come from the app's config when DEIS_DOCKER_BUILD_ARGS_ENABLED is set.
    expect(pushed.output).toContain('remote: greeting=hello-from-config');
    expect(pushed.output).toMatch(/remote: Step 1\/\d+ : FROM /);
    expect(pushed.output).toContain('remote: Build complete.');
    expect(pushed.output).toContain('remote: Launching App...');
    expect(pushed.output).toContain(`remote: Done, ${app('web')}:v2 deployed to Workflow`);
    expect(pushed.output).toContain("remote: Use 'deis open' to view this application in your browser");
    expect(pushed.output).toContain("remote: To learn more, use 'deis help' or visit https://deis.com/");
    const image = `${app('web')}:git-${repo.sha.slice(0, 8)}`;
    expect(controller.builds.at(-1)).toEqual({
      receive_user: 'alice',
      receive_repo: app('web'),
      image,
      sha: repo.sha.slice(0, 8),
      procfile: { web: '/bin/busybox httpd -f -p 5000' },
      dockerfile: 'true',
      // Sent again, unchanged, if the builder retries the hook on another controller (ADR 0021).
      request_id: expect.any(String),
    });
    const inspected = await docker.getImage(image).inspect();
    expect(inspected.Config.ExposedPorts).toHaveProperty('5000/tcp');
    // The pushed commit can be fetched back over SSH.
    const listed = await run('git', ['ls-remote', `ssh://git@127.0.0.1:${builder.sshPort}/${app('web')}.git`], { cwd: repo.dir, env: { GIT_SSH_COMMAND: sshCommand() } });
    expect(listed.output).toContain(`${repo.sha}\trefs/heads/main`);
  });

  it('builds a push over smart HTTP with the user token, and refuses a bad token', async () => {
    // Incompressible and over git's 1 MiB post buffer, so git sends the pack as a chunked request.
    const repo = await appRepo({ Dockerfile: dockerfile(), 'blob.bin': randomBytes(3 * 1024 * 1024).toString('base64') });
    const refused = await httpPush(repo.dir, app('http'), 'not-the-token');
    expect(refused.code).not.toBe(0);
    expect(controller.builds.some((b) => b.receive_repo === app('http'))).toBe(false);

    const pushed = await httpPush(repo.dir, app('http'));
    expect(pushed.output).toContain(`remote: Done, ${app('http')}:v`);
    expect(pushed.code).toBe(0);
    expect(controller.builds.at(-1)).toMatchObject({ receive_repo: app('http'), procfile: {}, image: `${app('http')}:git-${repo.sha.slice(0, 8)}` });
    await docker.getImage(`${app('http')}:git-${repo.sha.slice(0, 8)}`).inspect();
    // The pushed commit is in the app's repository afterwards: it can be fetched back.
    const clone = join(work, `clone-${RUN}`);
    const cloned = await run('git', ['clone', '-q', '-b', 'main', `http://alice:${TOKEN}@127.0.0.1:${builder.httpPort}/${app('http')}.git`, clone]);
    expect(cloned.code).toBe(0);
    expect((await run('git', ['rev-parse', 'HEAD'], { cwd: clone })).output.trim()).toBe(repo.sha);
  });

  it('reuses the engine cache unless the app sets DEIS_DISABLE_CACHE', async () => {
    const repo = await appRepo({ Dockerfile: dockerfile('RUN echo layer\n') });
    expect((await sshPush(repo.dir, app('cached'))).code).toBe(0);
    const cached = await sshPush(repo.dir, app('cached2'));
    expect(cached.code).toBe(0);
    expect(cached.output).toContain('Using cache');
    const fresh = await sshPush(repo.dir, app('nocache'));
    expect(fresh.code).toBe(0);
    expect(fresh.output).not.toContain('Using cache');
    expect(fresh.output).toContain('remote: greeting=hello-from-config');
  });

  it('stops a Dockerfile build that runs past DEIS_BUILD_TIMEOUT, and reports no build', async () => {
    const repo = await appRepo({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo dozing && sleep 120\n` });
    const started = Date.now();
    const pushed = await sshPush(repo.dir, app('sleepy'));
    expect(pushed.code).not.toBe(0);
    expect(pushed.output).toContain('remote: The build took longer than 40 s and was stopped (DEIS_BUILD_TIMEOUT)');
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(controller.builds.some((b) => b.receive_repo === app('sleepy'))).toBe(false);
  });

  it("runs a Dockerfile's RUN steps under the build limits", async () => {
    const limits = 'RUN echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)" && echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max)"\n';
    const repo = await appRepo({ Dockerfile: dockerfile(limits) });
    const pushed = await sshPush(repo.dir, app('limits'));
    expect(pushed.code).toBe(0);
    expect(pushed.output).toContain(`remote: memory=${300 * 1024 * 1024}`);
    expect(pushed.output).toContain('remote: cpu=100000');
  });

  it('rejects a push whose Dockerfile does not build, with the engine error, and creates no release', async () => {
    const repo = await appRepo({ Dockerfile: `FROM ${BASE_IMAGE}\nBOGUS instruction\n` });
    const pushed = await sshPush(repo.dir, app('broken'));
    expect(pushed.code).not.toBe(0);
    expect(pushed.output).toMatch(/remote: dockerfile parse error line 2: unknown instruction: BOGUS/i);
    expect(pushed.output).toContain('failed to push some refs');
    expect(controller.builds.some((b) => b.receive_repo === app('broken'))).toBe(false);
    // The ref did not move: the repository still has no main branch.
    const listed = await run('git', ['ls-remote', `http://alice:${TOKEN}@127.0.0.1:${builder.httpPort}/${app('broken')}.git`]);
    expect(listed.output).not.toContain('refs/heads/main');
  });

  it('rejects a push that no buildpack can build, and one the controller refuses to deploy', async () => {
    const plain = await appRepo({ 'README.txt': 'nothing to run' });
    const unbuildable = await sshPush(plain.dir, app('nodocker'));
    expect(unbuildable.code).not.toBe(0);
    expect(unbuildable.output).toContain('remote: -----> Unable to select a buildpack');
    expect(unbuildable.output).toContain('remote: No buildpack detected this app');
    expect(controller.builds.some((b) => b.receive_repo === app('nodocker'))).toBe(false);

    const repo = await appRepo({ Dockerfile: dockerfile() });
    const deployFailed = await sshPush(repo.dir, app('deployfail'));
    expect(deployFailed.code).not.toBe(0);
    expect(deployFailed.output).toContain('remote: web container failed to become ready');
  });

  it('refuses apps the user may not use and commands other than git', async () => {
    const repo = await appRepo({ Dockerfile: dockerfile() });
    const forbidden = await sshPush(repo.dir, app('forbidden'));
    expect(forbidden.code).not.toBe(0);
    expect(forbidden.output).toContain(`does not have permission to use app ${app('forbidden')}`);
    const overHttp = await httpPush(repo.dir, app('forbidden'));
    expect(overHttp.code).not.toBe(0);

    const shell = await run('ssh', ['-i', keyPath, '-p', String(builder.sshPort), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'git@127.0.0.1', 'cat /etc/passwd']);
    expect(shell.code).toBe(1);
    expect(shell.output).toContain('only git push and git fetch are supported');
    const ping = await run('ssh', ['-i', keyPath, '-p', String(builder.sshPort), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'git@127.0.0.1', 'ping']);
    expect(ping).toEqual({ code: 0, output: 'pong\n' });

    const strangerKey = join(work, 'stranger');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
    const stranger = await run('ssh', ['-i', strangerKey, '-p', String(builder.sshPort), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', 'git@127.0.0.1', `git-receive-pack '${app('web')}.git'`]);
    expect(stranger.code).toBe(255);
    expect(stranger.output).toContain('Permission denied');
  });

  it('refuses a second concurrent push to an app, over SSH and HTTP, and an interrupted push leaves no lock', async () => {
    const first = await appRepo({ Dockerfile: dockerfile() });
    const second = await appRepo({ Dockerfile: dockerfile('ENV SECOND=1\n') });
    let unblock: () => void = () => undefined;
    controller.hold = new Promise((resolve) => (unblock = resolve));
    const buildsBefore = controller.builds.length;
    let killFirst: () => void = () => undefined;
    const firstPush = sshPush(first.dir, app('busy'), { onSpawn: (kill) => (killFirst = kill) });
    await waitFor(() => controller.builds.length > buildsBefore);

    const overSsh = await sshPush(second.dir, app('busy'));
    expect(overSsh.code).toBe(128);
    expect(overSsh.output).toContain('fatal: remote error: Another git push is ongoing');
    const overHttp = await httpPush(second.dir, app('busy'));
    expect(overHttp.code).toBe(128);
    expect(overHttp.output).toContain('fatal: remote error: Another git push is ongoing');

    // The pusher goes away mid-deploy; once the controller has answered, the app is free again.
    killFirst();
    await firstPush;
    controller.hold = null;
    unblock();
    let again: Completed = { code: -1, output: '' };
    const deadline = Date.now() + 30_000;
    do {
      again = await sshPush(second.dir, app('busy'));
    } while (again.output.includes('Another git push is ongoing') && Date.now() < deadline);
    expect(again.output).toContain(`remote: Done, ${app('busy')}:v`);
    expect(again.code).toBe(0);
  });

  it('stops the build of a push interrupted mid-build, and frees the app', async () => {
    const slow = await appRepo({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo sleeping && sleep 60\n` });
    const buildsBefore = controller.builds.length;
    let kill: () => void = () => undefined;
    const started = Date.now();
    await sshPush(slow.dir, app('slow'), {
      onSpawn: (k) => (kill = k),
      onOutput: (output) => {
        if (output.includes('remote: sleeping')) kill();
      },
    });
    const quick = await appRepo({ Dockerfile: dockerfile() });
    let again: Completed;
    do {
      again = await sshPush(quick.dir, app('slow'));
    } while (again.output.includes('Another git push is ongoing') && Date.now() - started < 30_000);
    expect(again.output).toContain(`remote: Done, ${app('slow')}:v`);
    // Well before the interrupted build's 60 seconds: it was stopped, not waited for.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(controller.builds.slice(buildsBefore).map((b) => b.sha)).toEqual([quick.sha.slice(0, 8)]);
  });
});

describe('git push to a builder with the platform registry (ADR 0019)', () => {
  const password = randomBytes(18).toString('base64url');
  let registryRole: ReturnType<typeof spawn> | undefined;
  let address: string;
  let ca: string;
  let certsDir: string;
  const builders: RunningBuilder[] = [];

  /** HEAD of a manifest with the login: the registry's status for it. */
  const manifestStatus = (name: string, tag: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const [host, port] = address.split(':');
      const req = httpsRequest(
        { host, port: Number(port), method: 'HEAD', path: `/v2/${name}/manifests/${tag}`, ca, headers: { authorization: `Basic ${Buffer.from(`deis:${password}`).toString('base64')}`, accept: 'application/vnd.docker.distribution.manifest.v2+json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });

  const builderWith = async (registryPassword: string): Promise<RunningBuilder> => {
    const dataDir = join(work, `data-registry-${builders.length}`);
    const started = await startBuilder({
      controllerUrl: `http://127.0.0.1:${(controller.server.address() as AddressInfo).port}`,
      builderKey: BUILDER_KEY,
      dataDir,
      sshPort: 0,
      httpPort: 0,
      hostKeyPath: join(dataDir, 'ssh_host_ed25519_key'),
      docker,
      registry: { address, username: 'deis', password: registryPassword },
      log: () => undefined,
    });
    builders.push(started);
    return started;
  };

  beforeAll(async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    address = `127.0.0.1:${port}`;
    const dataDir = join(work, 'registry-role');
    // The registry role as the platform runs it (the built bundle), on loopback.
    registryRole = spawn(process.execPath, [join(import.meta.dirname, '..', '..', '..', 'dist', 'platform.js'), 'registry'], {
      env: { PATH: process.env.PATH, DEIS_DATA_DIR: dataDir, DEIS_REGISTRY_LISTEN: address, DEIS_REGISTRY_PASSWORD: password, DEIS_REGISTRY_GC_INTERVAL: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const take = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('platform: ready')) resolve();
      };
      registryRole!.stdout!.on('data', take);
      registryRole!.stderr!.on('data', take);
      registryRole!.once('exit', (code) => reject(new Error(`the registry role exited (${code}): ${output}`)));
    });
    ca = readFileSync(join(dataDir, 'registry', 'tls', 'ca.crt'), 'utf8');
    // This host's engine trusts the platform's CA for the registry's address.
    certsDir = join('/etc/docker/certs.d', address);
    mkdirSync(certsDir, { recursive: true });
    writeFileSync(join(certsDir, 'ca.crt'), ca);
  }, 60_000);

  afterAll(async () => {
    for (const started of builders) await started.stop();
    if (registryRole && registryRole.exitCode === null) {
      const exited = new Promise((resolve) => registryRole!.once('exit', resolve));
      registryRole.kill('SIGTERM');
      await exited;
    }
    rmSync(certsDir, { recursive: true, force: true });
    try {
      rmdirSync('/etc/docker/certs.d');
    } catch {
      // another registry's trust lives there
    }
  });

  it('pushes the image under the registry with the login before reporting that name to the controller', async () => {
    const withRegistry = await builderWith(password);
    const repo = await appRepo({ Dockerfile: dockerfile() });
    const pushed = await run('git', ['push', `http://alice:${TOKEN}@127.0.0.1:${withRegistry.httpPort}/${app('registry')}.git`, 'main'], { cwd: repo.dir, env: { GIT_TERMINAL_PROMPT: '0' } });
    expect(pushed.output).toContain(`remote: Pushing to registry ${address}`);
    expect(pushed.output).toMatch(/remote: git-[0-9a-f]{8}: digest: sha256:[0-9a-f]{64}/);
    expect(pushed.output).toContain(`remote: Done, ${app('registry')}:v`);
    expect(pushed.code).toBe(0);
    const tag = `git-${repo.sha.slice(0, 8)}`;
    expect(controller.builds.at(-1)).toMatchObject({ receive_repo: app('registry'), image: `${address}/${app('registry')}:${tag}` });
    expect(await manifestStatus(app('registry'), tag)).toBe(200);
  });

  it('fails the push, saying so, when the registry refuses the login; the controller hears nothing', async () => {
    const wrong = await builderWith('not-the-password');
    const repo = await appRepo({ Dockerfile: dockerfile('RUN echo other\n') });
    const buildsBefore = controller.builds.length;
    const pushed = await run('git', ['push', `http://alice:${TOKEN}@127.0.0.1:${wrong.httpPort}/${app('registry2')}.git`, 'main'], { cwd: repo.dir, env: { GIT_TERMINAL_PROMPT: '0' } });
    expect(pushed.code).not.toBe(0);
    expect(pushed.output).toContain(`The registry ${address} refused the platform's login (user deis) for ${address}/${app('registry2')}:git-${repo.sha.slice(0, 8)}`);
    expect(controller.builds.length).toBe(buildsBefore);
    expect(await manifestStatus(app('registry2'), `git-${repo.sha.slice(0, 8)}`)).toBe(404);
  });
});
