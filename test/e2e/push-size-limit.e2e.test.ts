/**
 * The builder's push size limit on the whole platform (DEIS_PUSH_SIZE_LIMIT, here 1 MiB): a larger push is refused
 * with the reason over SSH and over HTTP, whether git sends its length first or streams it, and nothing of it is kept;
 * a push under the limit still deploys.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo, sshCommand } from './drivers/git.ts';
import type { AppRepo } from './drivers/git.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';

const app = `big-${randomBytes(3).toString('hex')}`;
const REFUSED = 'Push refused: it is larger than 1 MiB, the most this builder accepts in one push.';
let platform: PlatformInstance;
let user: CliUser;
let repo: AppRepo;
let httpUrl: string;

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

beforeAll(async () => {
  platform = await startPlatform({ DEIS_PUSH_SIZE_LIMIT: '1' });
  user = newCliUser();
  expectOk(await user.deis(['register', platform.controllerUrl, '--username=ada', '--password=correct-horse-battery', '--email=ada@example.test']));
  const key = join(user.home, '.ssh', 'id_ed25519');
  mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
  expectOk(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', key]));
  expectOk(await user.deis(['keys:add', `${key}.pub`]));
  user.env.GIT_SSH_COMMAND = sshCommand(key, platform.sshPort);
  repo = await sampleAppRepo('node-hello', user.env);
  expectOk(await user.deis(['create', app, '--no-remote']));
  expectOk(await repo.git(['remote', 'add', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${app}.git`]));
  const { token } = JSON.parse(readFileSync(join(user.home, '.deis', 'client.json'), 'utf8')) as { token: string };
  httpUrl = `http://ada:${token}@127.0.0.1:${platform.builderHttpPort}/${app}.git`;
}, 300_000);

afterAll(async () => {
  await platform?.stop();
});

describe('a push over the size limit', () => {
  it('deploys a push under the limit', async () => {
    const pushed = expectOk(await repo.git(['push', 'deis', 'main']));
    expect(pushed.stdout + pushed.stderr).toContain(`Done, ${app}:v2 deployed to Workflow`);
  });

  it('is refused with the reason over SSH, over HTTP with a length and streamed over HTTP, and nothing is kept', async () => {
    // Random bytes do not compress: the pack is as large as the file.
    writeFileSync(join(repo.dir, 'blob.bin'), randomBytes(3 * 1024 * 1024));
    expectOk(await repo.git(['add', 'blob.bin']));
    expectOk(await repo.git(['commit', '-q', '-m', 'a large file']));
    const head = expectOk(await repo.git(['rev-parse', 'HEAD'])).stdout.trim();

    const overSsh = await repo.git(['push', 'deis', 'main']);
    expect(overSsh.code).not.toBe(0);
    expect(overSsh.stderr).toContain(REFUSED);
    // A large postBuffer makes git send the Content-Length first; the default streams anything over 1 MiB.
    const withLength = await repo.git(['-c', 'http.postBuffer=16777216', 'push', httpUrl, 'main']);
    expect(withLength.code).not.toBe(0);
    expect(withLength.stderr).toContain(REFUSED);
    const streamed = await repo.git(['push', httpUrl, 'main']);
    expect(streamed.code).not.toBe(0);

    const remote = expectOk(await runProgram('git', ['ls-remote', httpUrl, 'refs/heads/main'], { env: user.env }));
    expect(remote.stdout).not.toContain(head);
    const releases = expectOk(await user.deis(['releases', '-a', app]));
    expect(releases.stdout).not.toContain('v3');
  });
});
