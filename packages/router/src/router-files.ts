/**
 * The files the router writes for nginx (certificates, keys), written so that a crash never leaves one half-written
 * under its real name: each is written beside its place and renamed over it, and a file found with other content than
 * it should have (truncated by a crash of an older version, or damaged) is written again rather than trusted.
 * @module
 */
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Where a file is written before it is renamed into place; `removeUnusedCertificates` sweeps leftovers. */
function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `content` to `path` so that readers see either the old file or the whole new one, never a part. */
export function writeFileAtomically(path: string, content: string, mode: number): void {
  const temporary = temporaryPathFor(path);
  try {
    const fd = openSync(temporary, 'w', mode);
    try {
      writeSync(fd, content);
      // On disk before the rename, or a power cut could leave the new name on empty data.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Makes `path` hold `content`: left alone when it already does, written atomically otherwise. */
export function ensureFileContent(path: string, content: string, mode: number): void {
  if (readOrNull(path) === content) return;
  writeFileAtomically(path, content, mode);
}

/** Whether the two files are a whole certificate and a whole private key (either may be missing or truncated). */
export function isUsableKeyPair(certificatePath: string, keyPath: string): boolean {
  const certificate = readOrNull(certificatePath);
  const key = readOrNull(keyPath);
  if (certificate === null || key === null) return false;
  try {
    return new X509Certificate(certificate).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}
