import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser, registerUser, runProgram, startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let admin: CliUser;
let member: CliUser;

async function sshKey(user: CliUser, name: string, comment: string): Promise<void> {
  mkdirSync(join(user.home, '.ssh'), { recursive: true });
  const result = await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(user.home, '.ssh', name)], { cwd: user.home, env: user.env });
  if (result.code !== 0) throw new Error(result.stderr);
}

beforeAll(async () => {
  ({ server, user: admin } = await startWithUser('boss'));
  member = newCliUser();
  if ((await registerUser(member, server.url, 'member')).code !== 0) throw new Error('register failed');
}, 60_000);
afterAll(async () => server?.close());

describe('keys', () => {
  it('uploads the only key in ~/.ssh, lists and removes it', async () => {
    await sshKey(member, 'id_ed25519', 'member@laptop');
    const added = await member.deis(['keys:add']);
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain('Uploading id_ed25519.pub to deis... done');
    const list = await member.deis(['keys']);
    expect(list.stdout).toMatch(/^=== member Keys\nmember@laptop ssh-ed25519 AAAAC\.\.\.\S{10}$/m);
    const duplicate = await member.deis(['keys:add', 'again', join(member.home, '.ssh/id_ed25519.pub')]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('Public Key is already in use');
    expect((await member.deis(['keys:remove', 'member@laptop'])).stdout).toContain('Removing member@laptop SSH Key... done');
  });

  it('asks which key to upload when there are several', async () => {
    const user = newCliUser();
    await registerUser(user, server.url, 'keyholder');
    await sshKey(user, 'id_a', 'first@host');
    await sshKey(user, 'id_b', 'second@host');
    const added = await user.deis(['keys:add'], { input: '2\n' });
    expect(added.stdout).toContain('1) id_a.pub first@host');
    expect(added.stdout).toContain('2) id_b.pub second@host');
    expect(added.stdout).toContain('Uploading id_b.pub to deis... done');
    expect(JSON.parse((await user.deis(['keys', '--json'])).stdout).map((key: { id: string }) => key.id)).toEqual(['second@host']);
  });

  it('refuses a file that is not a public key', async () => {
    writeFileSync(join(member.home, 'junk.pub'), 'hello\n');
    const added = await member.deis(['keys:add', 'junk.pub']);
    expect(added.code).toBe(1);
    expect(added.stderr).toContain('is not an SSH public key');
  });
});

describe('perms and users', () => {
  it('shares an app with a collaborator and revokes it', async () => {
    await admin.deis(['create', 'shared', '--no-remote']);
    expect((await member.deis(['info', '-a', 'shared'])).code).toBe(1);
    expect((await admin.deis(['perms:create', 'member', '-a', 'shared'])).stdout).toContain('Adding member to shared collaborators... done');
    expect((await admin.deis(['sharing', '-a', 'shared'])).stdout).toMatch(/^=== shared's Users\nmember$/m);
    expect((await member.deis(['info', '-a', 'shared'])).code).toBe(0);
    const denied = await member.deis(['destroy', '-a', 'shared', '--confirm=shared']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Error: You do not have permission to perform this action.');
    expect((await admin.deis(['perms:delete', 'member', '-a', 'shared'])).stdout).toContain('Removing member from shared collaborators... done');
  });

  it('lists users and manages administrators (admins only)', async () => {
    const users = await admin.deis(['users']);
    expect(users.stdout).toContain('=== Users (*=admin)');
    expect(users.stdout).toMatch(/^\*boss$/m);
    expect(users.stdout).toMatch(/^ member$/m);
    expect((await member.deis(['users:list'])).code).toBe(1);
    expect((await admin.deis(['perms:create', 'member', '--admin'])).stdout).toContain('Adding member to system administrators... done');
    expect((await admin.deis(['perms:list', '--admin'])).stdout).toMatch(/^=== Administrators\n(.*\n)*member$/m);
    expect((await admin.deis(['perms:delete', 'member', '--admin'])).stdout).toContain('Removing member from system administrators... done');
  });
});

describe('certs', () => {
  it('adds a certificate from PEM files, attaches it to a domain, shows and removes it', async () => {
    const dir = member.home;
    const made = await runProgram('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '30', '-subj', '/CN=www.cert-test.org'], { cwd: dir, env: member.env });
    expect(made.code).toBe(0);
    const added = await member.deis(['certs:add', 'www-cert', 'cert.pem', 'key.pem']);
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain('Adding SSL endpoint... done');
    const list = await member.deis(['certs']);
    expect(list.stdout).toMatch(/^Name +Common Name/m);
    expect(list.stdout).toMatch(/^www-cert +www\.cert-test\.org/m);

    await member.deis(['create', 'cert-app', '--no-remote']);
    await member.deis(['domains:add', 'www.cert-test.org', '-a', 'cert-app']);
    expect((await member.deis(['certs:attach', 'www-cert', 'www.cert-test.org'])).stdout).toContain('Attaching certificate www-cert to domain www.cert-test.org... done');
    const info = await member.deis(['certs:info', 'www-cert']);
    expect(info.stdout).toContain('=== www-cert Certificate');
    expect(info.stdout).toMatch(/^Connected Domains: +www\.cert-test\.org$/m);
    expect((await member.deis(['certs:detach', 'www-cert', 'www.cert-test.org'])).stdout).toContain('done');
    expect((await member.deis(['certs:remove', 'www-cert'])).stdout).toContain('Removing www-cert... done');
    expect((await member.deis(['certs', '--json'])).stdout.trim()).toBe('[]');
  });

  it('refuses files that are not PEM before calling the controller', async () => {
    writeFileSync(join(member.home, 'not.pem'), 'nope');
    const added = await member.deis(['certs:add', 'bad', 'not.pem', 'not.pem']);
    expect(added.code).toBe(1);
    expect(added.stderr).toContain('is not a PEM certificate');
    expect((await member.deis(['certs:add', 'bad', 'missing.pem', 'missing.pem'])).stderr).toContain('no such file');
  });
});
