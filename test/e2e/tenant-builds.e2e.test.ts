/**
 * Tenants against each other through the builder, on the whole platform: a Dockerfile that names another app's image
 * (FROM, COPY --from, through an ARG) is refused before the engine prints a byte of it, and an app destroyed and
 * created again under its name serves none of the old history over SSH or HTTP, even when the builder kept the old
 * repository.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo, sshCommand } from './drivers/git.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';

const RUN = randomBytes(3).toString('hex');
const SECRET = `TOPSECRET-${randomBytes(8).toString('hex')}`;
const victim = `victim-${RUN}`;
const thief = `thief-${RUN}`;
const reborn = `reborn-${RUN}`;

let platform: PlatformInstance;

interface Tenant {
  name: string;
  cli: CliUser;
  token: string;
}

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

async function tenant(name: string, register: (cli: CliUser) => Promise<Completed>): Promise<Tenant> {
  const cli = newCliUser();
  expectOk(await register(cli));
  const key = join(cli.home, '.ssh', 'id_ed25519');
  mkdirSync(join(cli.home, '.ssh'), { mode: 0o700 });
  expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]));
  expectOk(await cli.deis(['keys:add', `${key}.pub`]));
  cli.env.GIT_SSH_COMMAND = sshCommand(key, platform.sshPort);
  const { token } = JSON.parse(readFileSync(join(cli.home, '.deis', 'client.json'), 'utf8')) as { token: string };
  return { name, cli, token };
}

/** A one-commit repository of these files with the app's SSH remote. */
async function repoOf(user: Tenant, app: string, files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'deis-tenant-'));
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  const git = (args: string[]) => runProgram('git', args, { cwd: dir, env: user.cli.env });
  expectOk(await git(['init', '-q', '-b', 'main']));
  expectOk(await git(['add', '-A']));
  expectOk(await git(['commit', '-q', '-m', 'first']));
  expectOk(await git(['remote', 'add', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${app}.git`]));
  return dir;
}

const push = (user: Tenant, dir: string): Promise<Completed> => runProgram('git', ['push', 'deis', 'main'], { cwd: dir, env: user.cli.env, timeoutMs: 300_000 });

let alice: Tenant;
let mallory: Tenant;
let victimImage: string;

beforeAll(async () => {
  platform = await startPlatform();
  // The first registration is the administrator, who may use every app: the tenants come after.
  const admin = newCliUser();
  expectOk(await admin.deis(['register', platform.controllerUrl, '--username=root', '--password=root-horse-battery', '--email=root@example.test']));
  // Registration is the administrator's once there is one; each tenant then logs in with a profile of their own.
  const registerAs = (name: string) => async (cli: CliUser) => {
    expectOk(await admin.deis(['register', platform.controllerUrl, `--username=${name}`, `--password=${name}-horse-battery`, `--email=${name}@example.test`, '--login=false']));
    return cli.deis(['login', platform.controllerUrl, `--username=${name}`, `--password=${name}-horse-battery`]);
  };
  alice = await tenant('alice', registerAs('alice'));
  mallory = await tenant('mallory', registerAs('mallory'));

  const node = join(import.meta.dirname, 'apps', 'node-hello');
  const dir = await repoOf(alice, victim, {
    Dockerfile: 'FROM deis/node:20\nCOPY secret.txt /app/secret.txt\nCOPY server.js /app/server.js\nEXPOSE 5000\nCMD ["node", "/app/server.js"]\n',
    'secret.txt': `${SECRET}\n`,
    'server.js': readFileSync(join(node, 'server.js'), 'utf8'),
  });
  expectOk(await alice.cli.deis(['create', victim, '--no-remote']));
  expectOk(await push(alice, dir));
  victimImage = `${victim}:git-${expectOk(await runProgram('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: dir })).stdout.trim()}`;
  expectOk(await runProgram('docker', ['image', 'inspect', victimImage]));
  expectOk(await mallory.cli.deis(['create', thief, '--no-remote']));
}, 600_000);

afterAll(async () => {
  await platform?.stop();
});

describe("a build cannot read another tenant's image", () => {
  const attacks: Array<[string, () => string]> = [
    ['FROM its image', () => `FROM ${victimImage}\nRUN cat /app/secret.txt\n`],
    ['COPY --from its image', () => `FROM deis/node:20\nCOPY --from=${victimImage} /app/secret.txt /stolen.txt\nRUN cat /stolen.txt\n`],
    ['FROM it through an ARG and a long name', () => `ARG BASE=docker.io/library/${victimImage}\nFROM --platform=linux/amd64 \\\n  $BASE AS stage\nRUN cat /app/secret.txt\n`],
  ];
  for (const [title, dockerfile] of attacks) {
    it(`refuses ${title} before any build output`, async () => {
      const dir = await repoOf(mallory, thief, { Dockerfile: dockerfile() });
      const pushed = await push(mallory, dir);
      const output = pushed.stdout + pushed.stderr;
      expect(pushed.code, output).not.toBe(0);
      expect(output).toMatch(new RegExp(`Dockerfile line \\d+: (FROM|COPY --from) \\S*${victimImage} is refused: .*${victim}`));
      expect(output).not.toContain(SECRET);
      expect(output).not.toMatch(/Step 1\/|Sending build context/);
    });
  }

  it('still builds from the platform images and, for the owner, from their own app', async () => {
    const dir = await repoOf(alice, victim, { Dockerfile: `FROM ${victimImage}\nRUN test -s /app/secret.txt\n` });
    expectOk(await runProgram('git', ['fetch', '-q', 'deis'], { cwd: dir, env: alice.cli.env }));
    const pushed = await runProgram('git', ['push', '-f', 'deis', 'main'], { cwd: dir, env: alice.cli.env, timeoutMs: 300_000 });
    expect(pushed.stdout + pushed.stderr).not.toContain('is refused');
    expect(pushed.stdout + pushed.stderr).toContain('Step 1/2');
  });
});

describe('a destroyed app name never serves its old history', () => {
  let oldSha: string;
  let saved: string;

  it("is removed with the app: repository, build cache volume and kept slugs", async () => {
    const repo = await sampleAppRepo('node-hello', alice.cli.env);
    expectOk(await alice.cli.deis(['create', reborn, '--no-remote']));
    expectOk(await repo.git(['remote', 'add', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${reborn}.git`]));
    expectOk(await repo.git(['push', 'deis', 'main']));
    oldSha = expectOk(await repo.git(['rev-parse', 'HEAD'])).stdout.trim();
    const repoPath = join(platform.dataDir, 'builder', 'repos', `${reborn}.git`);
    expect(existsSync(repoPath)).toBe(true);
    // What the builder would still hold had the destroy not reached it.
    saved = mkdtempSync(join(tmpdir(), 'deis-saved-repo-'));
    cpSync(repoPath, saved, { recursive: true });

    // What a buildpack push would have left: its cache volume and a kept slug.
    const volume = `${platform.name}-buildcache-${reborn}`;
    expectOk(await runProgram('docker', ['volume', 'create', '--label', `io.deis.platform=${platform.name}`, volume]));
    mkdirSync(join(platform.dataDir, 'builder', 'slugs', reborn), { recursive: true });
    writeFileSync(join(platform.dataDir, 'builder', 'slugs', reborn, '0123abcd.tgz'), 'slug');

    expectOk(await alice.cli.deis(['destroy', `--app=${reborn}`, `--confirm=${reborn}`]));
    expect(existsSync(repoPath)).toBe(false);
    expect(existsSync(join(platform.dataDir, 'builder', 'slugs', reborn))).toBe(false);
    expect((await runProgram('docker', ['volume', 'inspect', volume])).code).not.toBe(0);
  });

  it('is not served to the next app of that name over SSH or HTTP, even when the builder kept the old repository', async () => {
    expectOk(await mallory.cli.deis(['create', reborn, '--no-remote']));
    cpSync(saved, join(platform.dataDir, 'builder', 'repos', `${reborn}.git`), { recursive: true });
    rmSync(saved, { recursive: true, force: true });

    const clone = mkdtempSync(join(tmpdir(), 'deis-clone-'));
    const cloned = await runProgram('git', ['clone', `ssh://git@127.0.0.1:${platform.sshPort}/${reborn}.git`, join(clone, 'ssh')], { env: mallory.cli.env });
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(cloned.stderr).toContain('empty repository');
    const sshRefs = expectOk(await runProgram('git', ['ls-remote', 'origin'], { cwd: join(clone, 'ssh'), env: mallory.cli.env }));
    expect(sshRefs.stdout.trim()).toBe('');

    const http = `http://mallory:${mallory.token}@127.0.0.1:${platform.builderHttpPort}/${reborn}.git`;
    const httpRefs = expectOk(await runProgram('git', ['ls-remote', http], { env: mallory.cli.env }));
    expect(httpRefs.stdout.trim()).toBe('');
    const fetched = await runProgram('git', ['fetch', http, oldSha], { cwd: join(clone, 'ssh'), env: mallory.cli.env });
    expect(fetched.code).not.toBe(0);
    expect((await runProgram('git', ['cat-file', '-e', oldSha], { cwd: join(clone, 'ssh') })).code).not.toBe(0);
    rmSync(clone, { recursive: true, force: true });
  });
});
