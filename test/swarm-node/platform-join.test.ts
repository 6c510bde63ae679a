/**
 * `./platform join` and `./platform join-token` (scripts/swarm-node.sh): what they accept and refuse before they touch
 * anything. A refused argument installs nothing and talks to no engine; the join itself is tested in
 * platform-join.cluster.test.ts, on a swarm of its own.
 * @module
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = `SWMTKN-1-${'a1'.repeat(25)}-${'b2c3d'.repeat(5)}`;

/** Runs a command of the script with no engine to talk to, so that anything past the checks would fail differently. */
function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH, DOCKER_HOST: 'unix:///nonexistent/swp.sock' } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function managerAddress(raw: string) {
  return run('bash', ['--norc', '--noprofile', '-c', `. scripts/host.sh; . scripts/swarm-node.sh; swarm_manager_address "$1"`, 'test', raw]);
}

describe('./platform join', () => {
  it.each([
    ['10.0.0.5', '10.0.0.5:2377'],
    ['10.0.0.5:2400', '10.0.0.5:2400'],
    ['manager-1.example.com', 'manager-1.example.com:2377'],
    ['[2001:db8::5]', '[2001:db8::5]:2377'],
    ['[2001:db8::5]:2400', '[2001:db8::5]:2400'],
  ])('takes the manager address %s as %s', async (raw, normalized) => {
    expect(await managerAddress(raw)).toEqual({ code: 0, stdout: `${normalized}\n`, stderr: '' });
  });

  it.each([
    ['169.254.169.254', 'must not be link-local (169.254.169.254)'],
    ['169.254.0.1:2377', 'must not be link-local'],
    ['[fe80::1]', 'not the loopback, unspecified or link-local address fe80::1'],
    ['127.0.0.1', 'not 127.0.0.1'],
    ['localhost:2377', 'not localhost'],
    ['[::1]', 'not the loopback'],
    ['0.0.0.0', 'not 0.0.0.0'],
    ['300.1.1.1', '"300.1.1.1" is not an IPv4 address'],
    ['1.2.3', 'is not an IPv4 address'],
    ['10.0.0.5:0', '"0" is not a port number'],
    ['10.0.0.5:65536', '"65536" is not a port number'],
    ['-x.example', 'is not a host name'],
    ['tcp://10.0.0.5:2377', 'is not a manager address'],
    ['10.0.0.5 2377', 'is not a manager address'],
  ])('refuses the manager address %s', async (raw, reason) => {
    const result = await run('./platform', ['join', raw, TOKEN]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(reason);
    expect(result.stderr.match(/Error:/g)).toHaveLength(1);
  });

  it.each([['x'], ['SWMTKN-1-abc-def'], [`${TOKEN}x`], [TOKEN.toUpperCase()], [`SWMTKN-2-${TOKEN.slice(9)}`]])('refuses the token %s', async (token) => {
    const result = await run('./platform', ['join', '10.0.0.5', token]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a swarm join token');
  });

  it('needs exactly the address and the token', async () => {
    for (const args of [[], ['10.0.0.5'], ['10.0.0.5', TOKEN, 'extra']]) {
      const result = await run('./platform', ['join', ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('usage: ./platform join <manager-address> <join-token>');
    }
  });
});

describe('./platform join-token', () => {
  it('takes no argument', async () => {
    const result = await run('./platform', ['join-token', 'worker']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('usage: ./platform join-token');
  });

  it('is listed by ./platform help, with join', async () => {
    const { stdout } = await run(join(REPO_ROOT, 'platform'), ['help']);
    expect(stdout).toContain('join <manager-address> <join-token>');
    expect(stdout).toContain('join-token');
  });
});
