import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureHostKey, generateHostKey } from './host-key.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('ensureHostKey', () => {
  it('makes an ed25519 key once, private to its owner, and keeps it across starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deis-hostkey-'));
    dirs.push(dir);
    const path = join(dir, 'secrets', 'ssh_host_ed25519_key');
    const first = await ensureHostKey(path);
    const parsed = utils.parseKey(first);
    expect(parsed).not.toBeInstanceOf(Error);
    expect((parsed as { type: string }).type).toBe('ssh-ed25519');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${path}.pub`, 'utf8')).toMatch(/^ssh-ed25519 /);
    const second = await ensureHostKey(path);
    expect(second.equals(first)).toBe(true);
  });

  it('never makes a key the SSH server cannot read (ssh2 writes a malformed one about once in 250)', () => {
    for (let i = 0; i < 2_000; i += 1) expect(utils.parseKey(generateHostKey().private)).not.toBeInstanceOf(Error);
  });
});
