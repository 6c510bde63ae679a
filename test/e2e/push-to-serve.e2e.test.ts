/**
 * The platform end to end, as a developer meets it: the `deis` CLI, `git push` over SSH and HTTP, and HTTP requests
 * through the router, on the real Docker engine and nginx. One platform instance, one story told in order: each step
 * builds on the state the previous one left.
 * @module
 */
import { request as httpsRequest } from 'node:https';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
let repo: AppRepo;
let keyPath: string;
/** The commit of the first push, whose image `deis pull` deploys again later. */
let firstSha: string;
const app = `hello-${Math.random().toString(36).slice(2, 7)}`;
const appHost = () => `${app}.${platform.domain}`;

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

async function push(target = repo): Promise<Completed> {
  return target.git(['push', 'deis', 'main']);
}

async function deis(args: string[], cwd?: string): Promise<Completed> {
  return user.deis(args, { cwd });
}

/** Distinct container host names seen answering `count` requests. */
async function answeringHosts(count: number): Promise<Set<string>> {
  const hosts = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const response = await viaRouter(platform.routerPort, appHost());
    const match = /on (\S+)/.exec(response.body);
    if (response.status === 200 && match) hosts.add(match[1]!);
  }
  return hosts;
}

function httpsGet(port: number, servername: string): Promise<{ status: number; body: string; subject: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, servername, path: '/', headers: { host: servername }, rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        const subject = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, subject }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  platform = await startPlatform();
  user = newCliUser();
  keyPath = join(user.home, '.ssh', 'id_ed25519');
  mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
  expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', keyPath]));
  user.env.GIT_SSH_COMMAND = sshCommand(keyPath, platform.sshPort);
  repo = await sampleAppRepo('node-hello', user.env);
});

afterAll(async () => {
  await platform?.stop();
});

describe('from git push to a routed app', () => {
  it('registers the first user as administrator and uploads a key', async () => {
    const registered = expectOk(await deis(['register', platform.controllerUrl, '--username=ada', '--password=correct-horse-battery', '--email=ada@example.test']));
    expect(registered.stdout).toContain('Registered ada');
    const key = expectOk(await deis(['keys:add', `${keyPath}.pub`]));
    expect(key.stdout).toMatch(/Uploading .* to deis\.\.\. done/);
  });

  it('creates the app with a git remote', async () => {
    const created = expectOk(await deis(['create', app], repo.dir));
    expect(created.stdout).toContain(`Creating Application... done, created ${app}`);
    const remote = expectOk(await repo.git(['remote', 'get-url', 'deis']));
    expect(remote.stdout.trim()).toBe(`ssh://git@deis-builder.${platform.domain}:2222/${app}.git`);
    // The test's builder listens on a port of its own; the URL's port would win over ssh's -p.
    expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${app}.git`]));
  });

  it('builds a pushed Dockerfile app and serves it through the router', async () => {
    const pushed = expectOk(await push());
    firstSha = expectOk(await repo.git(['rev-parse', 'HEAD'])).stdout.trim().slice(0, 8);
    const output = pushed.stdout + pushed.stderr;
    expect(output).toContain('Starting build... but first, coffee!');
    expect(output).toContain(`Done, ${app}:v2 deployed to Workflow`);
    const response = await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 20_000 });
    expect(response.status).toBe(200);
    expect(response.body).toContain('Powered by Deis');
    expect(response.body).toContain('Release v2');
  });

  it('passes X-Forwarded headers to the app', async () => {
    const response = await viaRouter(platform.routerPort, appHost(), '/headers');
    const headers = JSON.parse(response.body) as Record<string, string>;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-port']).toBe(String(platform.routerPort));
  });

  it('config:set changes what the app answers', async () => {
    const set = expectOk(await deis(['config:set', 'POWERED_BY=Lovelace', '-a', app]));
    expect(set.stdout).toContain('Creating config... done');
    const response = await viaRouter(platform.routerPort, appHost());
    expect(response.body).toContain('Powered by Lovelace');
  });

  it('scale web=3 shows three pods and spreads requests over them', async () => {
    expectOk(await deis(['scale', 'web=3', '-a', app]));
    const ps = expectOk(await deis(['ps', '-a', app]));
    expect(ps.stdout).toContain('--- web:');
    const pods = ps.stdout.split('\n').filter((line) => new RegExp(`^${app}-web-\\d+-[a-z0-9]{5} up \\(v\\d+\\)$`).test(line));
    expect(pods).toHaveLength(3);
    const hosts = await answeringHosts(30);
    expect(hosts.size).toBeGreaterThanOrEqual(2);
  });

  it('restarts every pod and keeps serving', async () => {
    const before = expectOk(await deis(['ps', '-a', app])).stdout;
    expectOk(await deis(['ps:restart', '-a', app]));
    const after = expectOk(await deis(['ps', '-a', app])).stdout;
    const names = (text: string) => new Set(text.split('\n').filter((line) => line.startsWith(`${app}-web-`)).map((line) => line.split(' ')[0]));
    expect(names(after).size).toBe(3);
    for (const name of names(after)) expect(names(before).has(name)).toBe(false);
    expect((await viaRouter(platform.routerPort, appHost())).status).toBe(200);
  });

  it('runs a one-off command with its output and exit code', async () => {
    // The banner repeats the command, so the command's own output is matched whole.
    const ok = await deis(['run', '-a', app, '--', 'echo', 'ran-ok']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("Running 'echo ran-ok'...\nran-ok\n");
    expect(ok.stderr).toBe('');
    // A failed command's output goes to stderr, and stdout keeps only the banner.
    const failed = await deis(['run', '-a', app, '--', 'sh', '-c', 'echo from-run; exit 3']);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toBe("Running 'sh -c 'echo from-run; exit 3''...\n");
    expect(failed.stderr).toBe('from-run\n');
  });

  it('rolls back to the previous release', async () => {
    const rolled = expectOk(await deis(['rollback', '-a', app]));
    expect(rolled.stdout).toMatch(/Rolling back to v\d+\.\.\. done, v\d+/);
    const response = await viaRouter(platform.routerPort, appHost());
    expect(response.body).toContain('Powered by Deis');
  });

  it('routes a custom domain', async () => {
    expectOk(await deis(['domains:add', 'www.example.test', '-a', app]));
    const response = await pollRouter(platform.routerPort, 'www.example.test', (r) => r.status === 200, { timeoutMs: 10_000 });
    expect(response.status).toBe(200);
    expect(response.body).toContain('Powered by');
    expect((await viaRouter(platform.routerPort, 'nobody.example.test')).status).toBe(404);
  });

  it('answers 503 with a maintenance page in maintenance mode', async () => {
    expectOk(await deis(['maintenance:on', '-a', app]));
    const down = await pollRouter(platform.routerPort, appHost(), (r) => r.status === 503, { timeoutMs: 10_000 });
    expect(down.status).toBe(503);
    expect(down.body).toContain('<title>Site Maintenance</title>');
    expectOk(await deis(['maintenance:off', '-a', app]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 10_000 })).status).toBe(200);
  });

  it('answers 404 when routing is disabled', async () => {
    expectOk(await deis(['routing:disable', '-a', app]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 404, { timeoutMs: 10_000 })).status).toBe(404);
    expectOk(await deis(['routing:enable', '-a', app]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 10_000 })).status).toBe(200);
  });

  it('answers 403 to a client outside the whitelist', async () => {
    expectOk(await deis(['whitelist:add', '10.9.8.7', '-a', app]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 403, { timeoutMs: 10_000 })).status).toBe(403);
    expectOk(await deis(['whitelist:add', '127.0.0.1', '-a', app]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 10_000 })).status).toBe(200);
    expectOk(await deis(['whitelist:remove', '10.9.8.7,127.0.0.1', '-a', app]));
  });

  it('serves TLS with an attached certificate and redirects to https when enforced', async () => {
    const certPath = join(user.home, 'www.crt');
    const keyFile = join(user.home, 'www.key');
    expectOk(
      await runProgram('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=www.example.test', '-keyout', keyFile, '-out', certPath]),
    );
    expectOk(await deis(['certs:add', 'www-cert', certPath, keyFile]));
    expectOk(await deis(['certs:attach', 'www-cert', 'www.example.test']));
    let secure = { status: 0, body: '', subject: '' };
    for (let i = 0; i < 50 && secure.subject !== 'www.example.test'; i += 1) {
      secure = await httpsGet(platform.routerHttpsPort, 'www.example.test').catch(() => secure);
      if (secure.subject !== 'www.example.test') await new Promise((r) => setTimeout(r, 200));
    }
    expect(secure.subject).toBe('www.example.test');
    expect(secure.status).toBe(200);

    expectOk(await deis(['tls:enable', '-a', app]));
    const redirected = await pollRouter(platform.routerPort, 'www.example.test', (r) => r.status === 301, { timeoutMs: 10_000 });
    expect(redirected.status).toBe(301);
    // Off the default port, the redirect names the router's HTTPS port.
    expect(redirected.headers.location).toBe(`https://www.example.test:${platform.routerHttpsPort}/`);
    expectOk(await deis(['tls:disable', '-a', app]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 10_000 })).status).toBe(200);
  });

  it('rejects a push with a broken Dockerfile and keeps the old release serving', async () => {
    const before = await viaRouter(platform.routerPort, appHost());
    await repo.commitFile('Dockerfile', 'FROM deis/node:20\nBOGUS instruction\n', 'break the build');
    const pushed = await push();
    expect(pushed.code).not.toBe(0);
    expect(pushed.stdout + pushed.stderr).toMatch(/unknown instruction: BOGUS/i);
    expect(pushed.stderr).toContain('failed to push some refs');
    const after = await viaRouter(platform.routerPort, appHost());
    expect(after.status).toBe(200);
    expect(after.body.split('\n')[1]?.split(' on ')[0]).toBe(before.body.split('\n')[1]?.split(' on ')[0]);
  });

  it('marks a release whose app exits at start as failed and keeps the old one serving', async () => {
    const releasesBefore = expectOk(await deis(['releases', '-a', app])).stdout;
    await repo.commitFile('Dockerfile', 'FROM deis/node:20\nCOPY server.js /app/server.js\nEXPOSE 5000\nCMD ["node", "-e", "console.error(\'boom at start\'); process.exit(1)"]\n', 'crash at start');
    await repo.commitFile('Procfile', 'web: node -e "console.error(\'boom at start\'); process.exit(1)"\n', 'crash at start');
    const pushed = await push();
    expect(pushed.code).not.toBe(0);
    expect(pushed.stdout + pushed.stderr).toContain('boom at start');
    const response = await viaRouter(platform.routerPort, appHost());
    expect(response.status).toBe(200);
    expect(response.body).toContain('Powered by Deis');
    const releasesAfter = expectOk(await deis(['releases', '-a', app])).stdout;
    expect(releasesAfter).toMatch(/which failed/);
    expect(releasesAfter).not.toBe(releasesBefore);
  });

  it('accepts a push over smart HTTP with the user token', async () => {
    const profile = JSON.parse(readFileSync(join(user.home, '.deis', 'client.json'), 'utf8')) as { token: string };
    const other = await sampleAppRepo('node-hello', user.env);
    const name = `${app}-http`;
    expectOk(await deis(['create', name, '--no-remote'], other.dir));
    const url = `http://ada:${profile.token}@127.0.0.1:${platform.builderHttpPort}/${name}.git`;
    expectOk(await other.git(['remote', 'add', 'deis', url]));
    expectOk(await push(other));
    const response = await pollRouter(platform.routerPort, `${name}.${platform.domain}`, (r) => r.status === 200, { timeoutMs: 20_000 });
    expect(response.body).toContain('Powered by Deis');
  });

  it('deploys an image from the local engine with deis pull', async () => {
    const name = `${app}-pull`;
    expectOk(await deis(['create', name, '--no-remote']));
    const pulled = expectOk(await deis(['pull', `${app}:git-${firstSha}`, '-a', name]));
    expect(pulled.stdout).toContain('Creating build... done');
    const response = await pollRouter(platform.routerPort, `${name}.${platform.domain}`, (r) => r.status === 200, { timeoutMs: 20_000 });
    expect(response.body).toContain('Powered by Deis');
    // No Procfile: the image's own CMD runs as the `cmd` type.
    expect(expectOk(await deis(['ps', '-a', name])).stdout).toContain('--- cmd:');
  });

  it('refuses a push from a key nobody registered', async () => {
    const stranger = join(user.home, '.ssh', 'stranger');
    expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]));
    const pushed = await runProgram('git', ['push', 'deis', 'main'], { cwd: repo.dir, env: { ...user.env, GIT_SSH_COMMAND: sshCommand(stranger, platform.sshPort) } });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain('Permission denied (publickey)');
  });

  it('refuses a push from the registered key of a user without access to the app, until the app is shared', async () => {
    // The administrator registers bob, who logs in with his own profile and uploads his own key.
    expectOk(await deis(['register', platform.controllerUrl, '--username=bob', '--password=bob-horse-battery', '--email=bob@example.test', '--login=false']));
    const bob = newCliUser();
    const bobKey = join(bob.home, '.ssh', 'id_ed25519');
    mkdirSync(join(bob.home, '.ssh'), { mode: 0o700 });
    expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob', '-f', bobKey]));
    expectOk(await bob.deis(['login', platform.controllerUrl, '--username=bob', '--password=bob-horse-battery']));
    expectOk(await bob.deis(['keys:add', `${bobKey}.pub`]));
    const asBob = { ...user.env, GIT_SSH_COMMAND: sshCommand(bobKey, platform.sshPort) };

    const pushed = await runProgram('git', ['push', 'deis', 'main'], { cwd: repo.dir, env: asBob });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain(`User bob does not have permission to use app ${app}`);
    // The same key is let in once the owner shares the app: the refusal was about access, not the key.
    expectOk(await deis(['perms:create', 'bob', '-a', app]));
    expectOk(await runProgram('git', ['ls-remote', 'deis'], { cwd: repo.dir, env: asBob }));
  });

  it('apps:destroy removes the containers, the route and the images built for the app, but not one another app deploys', async () => {
    const inspect = (image: string) => runProgram('docker', ['image', 'inspect', '--format', '{{.Id}}', image]);
    // The last push's build: the app that crashed at start.
    const lastImage = `${app}:git-${expectOk(await repo.git(['rev-parse', 'HEAD'])).stdout.trim().slice(0, 8)}`;
    expectOk(await inspect(lastImage));
    expectOk(await deis(['destroy', `--app=${app}`, `--confirm=${app}`]));
    expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 404, { timeoutMs: 10_000 })).status).toBe(404);
    const containers = await runProgram('docker', ['ps', '-aq', '--filter', `label=io.deis.app=${app}`, '--filter', `label=io.deis.platform=${platform.name}`]);
    expect(containers.stdout.trim()).toBe('');
    expect((await inspect(lastImage)).code).not.toBe(0);
    // `deis pull` deployed the first push's image to another app, which still runs it.
    expectOk(await inspect(`${app}:git-${firstSha}`));
  });
});
