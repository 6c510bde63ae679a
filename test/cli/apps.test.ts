import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepo, newCliUser, registerUser, runProgram, startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let user: CliUser;

beforeAll(async () => {
  ({ server, user } = await startWithUser('owner'));
}, 60_000);
afterAll(async () => server?.close());

describe('apps', () => {
  it('creates an app with a deis remote, finds the app from it, and destroys it after confirmation', async () => {
    const repo = await gitRepo(user);
    const created = await user.deis(['create', 'shiny-app'], { cwd: repo });
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('Creating Application... done, created shiny-app');
    expect(created.stdout).toContain('Git remote deis successfully created for app shiny-app.');
    const remote = await runProgram('git', ['remote', 'get-url', 'deis'], { cwd: repo, env: user.env });
    expect(remote.stdout.trim()).toBe('ssh://git@deis-builder.localhost:2222/shiny-app.git');

    const info = await user.deis(['info'], { cwd: repo });
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('=== shiny-app Application');
    expect(info.stdout).toMatch(/^owner: +owner$/m);
    expect(info.stdout).toMatch(/^url: +shiny-app\.localhost$/m);
    expect(info.stdout).toContain('=== shiny-app Domains');

    const again = await user.deis(['apps:create', 'other-app'], { cwd: repo });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('A git remote with the name deis already exists');

    const refused = await user.deis(['destroy'], { cwd: repo, input: 'wrong\n' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('App shiny-app does not match confirm wrong, aborting.');
    const destroyed = await user.deis(['destroy'], { cwd: repo, input: 'shiny-app\n' });
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toContain('Destroying shiny-app...');
    expect(destroyed.stdout).toMatch(/done in \d+s/);
    expect(destroyed.stdout).toContain('Git remotes for app shiny-app removed.');
    expect((await runProgram('git', ['remote'], { cwd: repo, env: user.env })).stdout.trim()).toBe('');
  });

  it('lists apps, as text and as JSON, with (x of y) when limited', async () => {
    for (const id of ['list-a', 'list-b']) expect((await user.deis(['create', id, '--no-remote'])).code).toBe(0);
    const list = await user.deis(['apps']);
    expect(list.stdout).toMatch(/^=== Apps\nlist-a\nlist-b\n/m);
    const limited = await user.deis(['apps:list', '--limit=1']);
    expect(limited.stdout).toMatch(/^=== Apps \(1 of \d+\)$/m);
    const json = await user.deis(['apps', '--json']);
    const apps = JSON.parse(json.stdout) as { id: string; owner: string }[];
    expect(apps.map((app) => app.id)).toEqual(expect.arrayContaining(['list-a', 'list-b']));
    expect(apps[0]).toHaveProperty('uuid');
  });

  it('keeps stdout pure JSON under --json, progress lines going to stderr', async () => {
    const created = await user.deis(['create', 'json-app', '--no-remote', '--json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ id: 'json-app', owner: 'owner' });
    expect(created.stderr).toContain('Creating Application... done, created json-app');
    const set = await user.deis(['config:set', 'A=1', '-a', 'json-app', '--json']);
    expect(JSON.parse(set.stdout)).toEqual({ A: '1' });
    const info = await user.deis(['info', '-a', 'json-app', '--json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ app: { id: 'json-app' }, url: 'json-app.localhost', domains: ['json-app'], labels: {} });
  });

  it('says how to choose an app when none is given or detected', async () => {
    const repo = await gitRepo(user);
    const info = await user.deis(['info'], { cwd: repo });
    expect(info.code).toBe(1);
    expect(info.stderr).toMatch(/^Error: No app given/);
    expect(info.stderr).toContain('-a <app>');
  });

  it('prints the controller\'s 404 as the Deis CLI does', async () => {
    const info = await user.deis(['info', '-a', 'no-such-app']);
    expect(info.code).toBe(1);
    expect(info.stderr).toContain('Error: "No App matches the given query."');
  });

  it('shows the controller\'s validation message for a bad name', async () => {
    const created = await user.deis(['create', 'Bad_Name', '--no-remote']);
    expect(created.code).toBe(1);
    expect(created.stderr).toMatch(/^Error: .*(a-z|lowercase)/m);
  });

  it('adds and removes the remote with git:remote and git:remove', async () => {
    expect((await user.deis(['create', 'remote-app', '--no-remote'])).stdout).toContain('deis git:remote -a remote-app');
    const repo = await gitRepo(user);
    const added = await user.deis(['git:remote', '-a', 'remote-app', '--remote', 'staging'], { cwd: repo });
    expect(added.stdout).toContain('Git remote staging successfully created for app remote-app.');
    expect((await user.deis(['config', '-a', 'remote-app'], { cwd: repo })).code).toBe(0);
    // the staging remote points at the builder, so the app is found from it
    expect((await user.deis(['config'], { cwd: repo })).stdout).toContain('=== remote-app Config');
    const removed = await user.deis(['git:remove', '-a', 'remote-app'], { cwd: repo });
    expect(removed.stdout).toContain('Git remotes for app remote-app removed.');
  });

  it('prints the app URL for open (no browser when not on a terminal)', async () => {
    await user.deis(['create', 'open-app', '--no-remote']);
    const opened = await user.deis(['open', '-a', 'open-app']);
    expect(opened.code).toBe(0);
    expect(opened.stdout.trim()).toBe('http://open-app.localhost');
  });

  it('transfers an app to another user', async () => {
    const other = newCliUser();
    expect((await registerUser(other, server.url, 'receiver')).code).toBe(0);
    await user.deis(['create', 'gift-app', '--no-remote']);
    const transferred = await user.deis(['apps:transfer', 'receiver', '-a', 'gift-app']);
    expect(transferred.stdout).toContain('Transferring gift-app to receiver... done');
    expect((await other.deis(['info', '-a', 'gift-app'])).stdout).toMatch(/^owner: +receiver$/m);
  });
});

describe('config', () => {
  it('sets, lists, unsets and round-trips .env', async () => {
    await user.deis(['create', 'conf-app', '--no-remote']);
    const set = await user.deis(['config:set', 'FOO=bar', 'LONGER_KEY=two words', '-a', 'conf-app']);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('Creating config... done');
    expect(set.stdout).toContain('=== conf-app Config');
    expect(set.stdout).toMatch(/^FOO {2,}bar$/m);
    expect(set.stdout).toMatch(/^LONGER_KEY {2}two words$/m);
    expect((await user.deis(['config', '-a', 'conf-app', '--oneline'])).stdout.trim()).toBe('FOO=bar LONGER_KEY=two words');
    expect(JSON.parse((await user.deis(['config', '-a', 'conf-app', '--json'])).stdout)).toEqual({ FOO: 'bar', LONGER_KEY: 'two words' });

    const dir = await gitRepo(user);
    const pulled = await user.deis(['config:pull', '-a', 'conf-app'], { cwd: dir });
    expect(pulled.code).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('FOO=bar\nLONGER_KEY=two words\n');
    expect((await user.deis(['config:pull', '-a', 'conf-app'], { cwd: dir })).stderr).toContain('.env already exists, pass -o to overwrite');

    writeFileSync(join(dir, '.env'), '# a comment\n\nexport NEW_ONE="quoted value"\nFOO=changed\n');
    const pushed = await user.deis(['config:push', '-a', 'conf-app'], { cwd: dir });
    expect(pushed.code).toBe(0);
    expect(JSON.parse((await user.deis(['config', '-a', 'conf-app', '--json'])).stdout)).toEqual({ FOO: 'changed', LONGER_KEY: 'two words', NEW_ONE: 'quoted value' });

    const unset = await user.deis(['config:unset', 'FOO', '-a', 'conf-app']);
    expect(unset.stdout).toContain('Removing config... done');
    expect(unset.stdout).not.toMatch(/^FOO/m);
  });

  it('sends SSH_KEY base64-encoded, read from a key file', async () => {
    await user.deis(['create', 'ssh-app', '--no-remote']);
    const dir = await gitRepo(user);
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    writeFileSync(join(dir, 'deploy_key'), key);
    expect((await user.deis(['config:set', 'SSH_KEY=deploy_key', '-a', 'ssh-app'], { cwd: dir })).code).toBe(0);
    const values = JSON.parse((await user.deis(['config', '-a', 'ssh-app', '--json'])).stdout) as { SSH_KEY: string };
    expect(Buffer.from(values.SSH_KEY, 'base64').toString()).toBe(key);
    expect((await user.deis(['config:set', 'SSH_KEY=not-a-key', '-a', 'ssh-app'], { cwd: dir })).stderr).toContain('Could not parse SSH_KEY');
  });

  it('refuses a malformed .env with the line and exit 1', async () => {
    await user.deis(['create', 'env-app', '--no-remote']);
    const dir = await gitRepo(user);
    writeFileSync(join(dir, '.env'), 'GOOD=1\nthis is not valid\n');
    const pushed = await user.deis(['config:push', '-a', 'env-app'], { cwd: dir });
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toContain("line 2: 'this is not valid' does not match the pattern 'KEY=value'");
    expect(existsSync(join(dir, 'nothing'))).toBe(false);
  });

  it('is a usage error (exit 2) to set a malformed pair', async () => {
    const set = await user.deis(['config:set', 'novalue', '-a', 'env-app']);
    expect(set.code).toBe(2);
    expect(set.stderr).toContain("'novalue' does not match the pattern 'key=value'");
  });
});

describe('releases and builds', () => {
  it('creates builds from an image, lists releases, shows one, and rolls back', async () => {
    await user.deis(['create', 'rel-app', '--no-remote']);
    expect((await user.deis(['config:set', 'PORT=5000', '-a', 'rel-app'])).code).toBe(0);
    const pulled = await user.deis(['pull', 'example/image:1', '-a', 'rel-app']);
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toContain('Creating build... done');
    const builds = await user.deis(['builds', '-a', 'rel-app']);
    expect(builds.stdout).toMatch(/^=== rel-app Builds\n[0-9a-f-]{36} \S+ image$/m);

    const releases = await user.deis(['releases', '-a', 'rel-app']);
    expect(releases.stdout).toContain('=== rel-app Releases');
    expect(releases.stdout).toMatch(/^v3\t\S+\towner deployed example\/image:1$/m);
    expect(releases.stdout).toMatch(/^v1\t\S+\towner created initial release$/m);
    const info = await user.deis(['releases:info', 'v2', '-a', 'rel-app']);
    expect(info.stdout).toContain('=== rel-app Release v2');
    expect(info.stdout).toMatch(/^summary: owner added PORT$/m);

    const rolled = await user.deis(['rollback', '-a', 'rel-app']);
    expect(rolled.stderr).toBe('');
    expect(rolled.stdout).toContain('Rolling back to v2... done, v4');
    const explicit = await user.deis(['releases:rollback', 'v3', '-a', 'rel-app', '--json']);
    expect(JSON.parse(explicit.stdout)).toEqual({ version: 5 });
  });

  it('sends the Procfile given with --procfile', async () => {
    await user.deis(['create', 'proc-app', '--no-remote']);
    await user.deis(['config:set', 'PORT=5000', '-a', 'proc-app']);
    const pulled = await user.deis(['builds:create', 'example/image:2', '-a', 'proc-app', '--procfile', 'web: ./server\nworker: ./work', '--json']);
    expect(pulled.code).toBe(0);
    expect(JSON.parse(pulled.stdout).procfile).toEqual({ web: './server', worker: './work' });
    expect((await user.deis(['builds', '-a', 'proc-app'])).stdout).toMatch(/^[0-9a-f-]{36} \S+ image web,worker$/m);
  });
});

describe('domains', () => {
  it('adds, lists and removes a domain', async () => {
    await user.deis(['create', 'dom-app', '--no-remote']);
    expect((await user.deis(['domains:add', 'www.example.org', '-a', 'dom-app'])).stdout).toContain('Adding www.example.org to dom-app... done');
    expect((await user.deis(['domains', '-a', 'dom-app'])).stdout).toMatch(/^=== dom-app Domains\n(.*\n)*www\.example\.org$/m);
    expect((await user.deis(['domains:remove', 'www.example.org', '-a', 'dom-app'])).stdout).toContain('Removing www.example.org from dom-app... done');
    expect((await user.deis(['domains:remove', 'www.example.org', '-a', 'dom-app'])).stderr).toContain('Error: "No Domain matches the given query."');
  });
});
