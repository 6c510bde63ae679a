import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, ensureCliBuilt, newCliUser, registerUser, startCliController } from './cli-harness.ts';
import type { CliController } from './cli-harness.ts';

let server: CliController;

beforeAll(async () => {
  await ensureCliBuilt();
  server = await startCliController();
}, 60_000);
afterAll(async () => server?.close());

describe('register, login, whoami, logout', () => {
  it('registers the first user, logs them in and writes a Deis-compatible profile', async () => {
    const user = newCliUser();
    const registered = await registerUser(user, server.url, 'ada');
    expect(registered.stderr).toBe('');
    expect(registered.code).toBe(0);
    expect(registered.stdout).toContain('Registered ada');
    expect(registered.stdout).toContain('Logged in as ada');
    const path = join(user.home, '.deis/client.json');
    expect(registered.stdout).toContain(`Configuration file written to ${path}`);
    const profile = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(profile).toMatchObject({ controller: server.url, username: 'ada', ssl_verify: true, response_limit: 100 });
    expect(profile.token).toMatch(/^[0-9a-f]{40}$/);

    const whoami = await user.deis(['whoami']);
    expect(whoami.stdout.trim()).toBe(`You are ada at ${server.url}`);
    const all = await user.deis(['whoami', '--all']);
    expect(all.stdout).toContain('Username: ada');
    expect(all.stdout).toContain('Is Superuser: true');
    const json = await user.deis(['auth:whoami', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ username: 'ada', is_superuser: true });

    const out = await user.deis(['logout']);
    expect(out.stdout.trim()).toBe('Logged out');
    expect(existsSync(path)).toBe(false);
    const after = await user.deis(['whoami']);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/^Error: Not logged in\./);
  });

  it('logs in with a named profile chosen by -c or DEIS_PROFILE, prompting for missing answers', async () => {
    const admin = newCliUser();
    await registerUser(admin, server.url, 'grace');
    const user = newCliUser();
    const login = await user.deis(['-c', 'work', 'login', server.url], { input: 'grace\ns3cret-pass\n' });
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Logged in as grace');
    expect(existsSync(join(user.home, '.deis/work.json'))).toBe(true);
    expect(existsSync(join(user.home, '.deis/client.json'))).toBe(false);
    expect((await user.deis(['whoami'], { env: { DEIS_PROFILE: 'work' } })).stdout).toContain('You are grace');
    expect((await user.deis(['whoami', '--config=work'])).stdout).toContain('You are grace');
    expect((await user.deis(['whoami'])).code).toBe(3);
  });

  it('refuses bad credentials with the controller\'s message and exit 1', async () => {
    const user = newCliUser();
    const login = await user.deis(['login', server.url, '--username=nobody', '--password=wrong']);
    expect(login.code).toBe(1);
    expect(login.stderr).toContain('Error: Unable to log in with provided credentials.');
  });

  it('exits 3 when the stored token is rejected', async () => {
    const user = newCliUser();
    await registerUser(user, server.url, 'linus');
    const path = join(user.home, '.deis/client.json');
    const profile = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, JSON.stringify({ ...profile, token: '0'.repeat(40) }));
    const apps = await user.deis(['apps']);
    expect(apps.code).toBe(3);
    expect(apps.stderr).toContain('Error: Unauthorized: Missing or Invalid Token');
  });

  it('fails clearly when nothing listens at the controller URL', async () => {
    const user = newCliUser();
    const login = await user.deis(['login', 'http://127.0.0.1:9', '--username=a', '--password=b']);
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/^Error: Could not reach the controller/);
  });

  it('regenerates the token and keeps working with the new one', async () => {
    const user = newCliUser();
    await registerUser(user, server.url, 'tokenuser');
    const path = join(user.home, '.deis/client.json');
    const before = (JSON.parse(readFileSync(path, 'utf8')) as { token: string }).token;
    const regenerated = await user.deis(['auth:regenerate']);
    expect(regenerated.stdout).toContain('Token Regenerated');
    const after = (JSON.parse(readFileSync(path, 'utf8')) as { token: string }).token;
    expect(after).not.toBe(before);
    expect((await user.deis(['whoami', '--all'])).code).toBe(0);
  });

  it('changes the password', async () => {
    const user = newCliUser();
    await registerUser(user, server.url, 'pwuser');
    const changed = await user.deis(['auth:passwd', '--password=s3cret-pass', '--new-password=n3w-pass-word']);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('Password change succeeded.');
    const other = newCliUser();
    expect((await other.deis(['login', server.url, '--username=pwuser', '--password=n3w-pass-word'])).code).toBe(0);
  });

  it('cancels an account with --yes', async () => {
    const user = newCliUser();
    await registerUser(user, server.url, 'leaver');
    const cancelled = await user.deis(['auth:cancel', '--yes']);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('Account cancelled');
    const other = newCliUser();
    expect((await other.deis(['login', server.url, '--username=leaver', '--password=s3cret-pass'])).code).toBe(1);
  });
});

describe('passwords on a terminal', () => {
  it('reads the password without echoing it', async () => {
    const admin = newCliUser();
    await registerUser(admin, server.url, 'typist');
    const user = newCliUser();
    // script(1) gives the CLI a pseudo-terminal; whatever the terminal echoes shows in script's output. The password
    // is typed only once the prompt is shown, as a person would (earlier, the terminal would echo it as type-ahead).
    const child = spawn('script', ['-qc', `${process.execPath} ${CLI_PATH} login ${server.url} --username=typist`, '/dev/null'], { cwd: user.home, env: user.env });
    let output = '';
    let typed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!typed && output.includes('password: ')) {
        typed = true;
        child.stdin.write('s3cret-pass\r');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(output).toContain('Logged in as typist');
    expect(output).not.toContain('s3cret-pass');
  });
});
