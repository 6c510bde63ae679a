import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { md5Fingerprint } from './fingerprint.ts';

describe('md5Fingerprint', () => {
  it('is the colon-hex MD5 of the key blob, as ssh-keygen -E md5 prints it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deis-fp-'));
    try {
      const key = join(dir, 'id');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const blob = Buffer.from(readFileSync(`${key}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
      const printed = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', `${key}.pub`], { encoding: 'utf8' });
      const expected = /MD5:([0-9a-f:]+)/.exec(printed)?.[1];
      expect(md5Fingerprint(blob)).toBe(expected);
      expect(md5Fingerprint(blob)).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
