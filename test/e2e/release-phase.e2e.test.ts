/**
 * The release phase end to end (docs/release-phase.md): a Procfile `release:` command runs before each new release
 * takes traffic, its output in the push; a failing one fails the push or the config change, and the release that
 * was serving keeps serving through the router.
 * @module
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredUserWithKey } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo } from './drivers/git.ts';
import type { AppRepo } from './drivers/git.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import type { Completed } from './drivers/processes.ts';

let platform: PlatformInstance;
let user: CliUser;
let repo: AppRepo;
const app = `release-${Math.random().toString(36).slice(2, 7)}`;
const appHost = () => `${app}.${platform.domain}`;
const WEB = 'web: node /app/server.js\n';

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

/** git pads `remote:` lines with spaces to clear its progress output; the lines are compared without them. */
function pushOutput(result: Completed): string {
  return (result.stdout + result.stderr).replace(/ +\n/g, '\n');
}

async function pushProcfile(procfile: string, message: string): Promise<Completed> {
  await repo.commitFile('Procfile', procfile, message);
  return repo.git(['push', 'deis', 'main']);
}

/** A push whose every output line is stamped with the time it reached the pusher. */
async function timedPush(): Promise<{ code: number; lines: { at: number; text: string }[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['push', 'deis', 'main'], { cwd: repo.dir, env: user.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: { at: number; text: string }[] = [];
    let pending = '';
    const take = (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const text of parts) lines.push({ at: Date.now(), text: text.trimEnd() });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, lines }));
  });
}

/** The release the router's answer names, after a few requests agree. */
async function servedRelease(): Promise<string> {
  const answers = new Set<string>();
  for (let i = 0; i < 5; i++) answers.add(/Release (v\d+)/.exec((await viaRouter(platform.routerPort, appHost())).body)?.[1] ?? 'none');
  return [...answers].join(',');
}

beforeAll(async () => {
  platform = await startPlatform();
  user = await registeredUserWithKey(platform);
  repo = await sampleAppRepo('node-hello', user.env);
  expectOk(await user.deis(['create', app], { cwd: repo.dir }));
  expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${app}.git`]));
});

afterAll(async () => {
  await platform?.stop();
});

describe('release phase', () => {
  it('runs the release command before the release serves, its output streamed into the push and kept in the logs', async () => {
    const release = 'release: echo migrating && sleep 2 && echo "migrated for $WORKFLOW_RELEASE" && test "$FAIL_RELEASE" != yes\n';
    await repo.commitFile('Procfile', `${WEB}${release}`, 'with a release phase');
    const pushed = await timedPush();
    const texts = pushed.lines.map((line) => line.text);
    if (pushed.code !== 0) throw new Error(`push failed:\n${texts.join('\n')}\nplatform:\n${platform.output().slice(-4000)}`);
    const at = (text: string) => {
      const index = texts.indexOf(text);
      expect(index, `"${text}" in the push output:\n${texts.join('\n')}`).toBeGreaterThanOrEqual(0);
      return { index, at: pushed.lines[index]!.at };
    };
    expect(texts).toContain(`remote: Running release command '${release.slice('release: '.length, -1)}'...`);
    const migrating = at('remote: migrating');
    const migrated = at('remote: migrated for v2');
    const done = at(`remote: Done, ${app}:v2 deployed to Workflow`);
    // Streamed while the command ran, not handed over once it ended; and all of it before the release was deployed.
    expect(migrated.at - migrating.at).toBeGreaterThanOrEqual(1_500);
    expect(migrating.index).toBeLessThan(migrated.index);
    expect(migrated.index).toBeLessThan(done.index);
    const response = await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 20_000 });
    expect(response.body).toContain('Release v2');
    // `release` gets no container of its own.
    const ps = expectOk(await user.deis(['ps', '-a', app]));
    expect(ps.stdout).not.toContain('--- release');
    expect(ps.stdout).not.toMatch(new RegExp(`^${app}-release-`, 'm'));
    expect(ps.stdout).toContain('--- web:');
    const scaled = await user.deis(['scale', 'release=1', '-a', app]);
    expect(scaled.code).not.toBe(0);
    const logs = expectOk(await user.deis(['logs', '-a', app]));
    expect(logs.stdout).toMatch(new RegExp(` ${app}\\[release\\.v2\\.[a-z0-9]{5}\\]: migrating\n`));
    expect(logs.stdout).toContain('v2 release phase succeeded');
  });

  it('fails the push on a failing release command, and the previous release keeps serving', async () => {
    const pushed = await pushProcfile(`${WEB}release: echo failing-migration && exit 1\n`, 'a failing release phase');
    const output = pushOutput(pushed);
    expect(pushed.code).not.toBe(0);
    expect(output).toContain('remote: failing-migration\n');
    expect(output).toContain("release phase failed: the release command 'echo failing-migration && exit 1' of v3 exited with code 1; v3 was not deployed");
    expect(output).not.toContain(`Done, ${app}:v3 deployed`);
    expect(await servedRelease()).toBe('v2');
    const releases = expectOk(await user.deis(['releases', '-a', app]));
    expect(releases.stdout).toMatch(/v3\s+.*deployed \w+ which failed/);
  });

  it('fails a config change whose release command fails, and the previous release keeps serving', async () => {
    // Back to the good Procfile: v4.
    const release = 'release: echo migrating && echo "migrated for $WORKFLOW_RELEASE" && test "$FAIL_RELEASE" != yes\n';
    expectOk(await pushProcfile(`${WEB}${release}`, 'the good release phase again'));
    expect(await servedRelease()).toBe('v4');
    const set = await user.deis(['config:set', 'FAIL_RELEASE=yes', 'POWERED_BY=Broken', '-a', app]);
    expect(set.code).not.toBe(0);
    expect(set.stdout + set.stderr).toContain("release phase failed: the release command 'echo migrating && ");
    expect(set.stdout + set.stderr).toContain('of v5 exited with code 1');
    expect(await servedRelease()).toBe('v4');
    expect((await viaRouter(platform.routerPort, appHost())).body).toContain('Powered by Deis');
  });
});
