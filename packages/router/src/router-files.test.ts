import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDefaultCertificate } from './router.ts';
import { ensureFileContent, isUsableKeyPair, writeFileAtomically } from './router-files.ts';

describe("the router's files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'router-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a file whole under its name, with its mode, leaving no temporary file', () => {
    const path = join(dir, 'a.crt');
    writeFileAtomically(path, 'whole content\n', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('whole content\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['a.crt']);
  });

  it('writes again a file a crash left truncated, instead of skipping it because it exists', () => {
    const path = join(dir, 'cert-abc.crt');
    const content = '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n';
    writeFileSync(path, content.slice(0, 20));
    ensureFileContent(path, content, 0o600);
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('makes the default certificate again when a crash left it truncated', async () => {
    const first = await ensureDefaultCertificate(dir);
    expect(isUsableKeyPair(first.certificatePath, first.keyPath)).toBe(true);
    const whole = readFileSync(first.certificatePath, 'utf8');
    writeFileSync(first.certificatePath, whole.slice(0, 100));
    expect(isUsableKeyPair(first.certificatePath, first.keyPath)).toBe(false);
    const again = await ensureDefaultCertificate(dir);
    expect(isUsableKeyPair(again.certificatePath, again.keyPath)).toBe(true);
    // A whole pair is kept as it is.
    const kept = readFileSync(again.certificatePath, 'utf8');
    await ensureDefaultCertificate(dir);
    expect(readFileSync(again.certificatePath, 'utf8')).toBe(kept);
  });
});
