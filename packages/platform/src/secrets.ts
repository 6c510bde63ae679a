/**
 * Secrets made once per installation and kept in the data directory, readable by root only.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The builder↔controller shared key: read if it exists, made and stored if not. */
export function ensureBuilderKey(dataDir: string): string {
  return ensureSecret(dataDir, 'builder-key');
}

/**
 * The value the scheduler marks its containers with and trusts no container without (a build can copy any label it
 * can read, never this one): read if it exists, made and stored if not.
 */
export function ensureContainerKey(dataDir: string): string {
  return ensureSecret(dataDir, 'container-key');
}

function ensureSecret(dataDir: string, name: string): string {
  const dir = join(dataDir, 'secrets');
  const file = join(dir, name);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
