/**
 * For tests: a fresh self-signed certificate and its key, made by `openssl req -x509` at test time (EC P-256, so it is
 * quick), so no private key is ever committed.
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  certificate: string;
  key: string;
}

export async function makeTestCertificate(options: { subject?: string; san?: string[]; days?: number } = {}): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'deis-test-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath];
    args.push('-days', String(options.days ?? 30), '-subj', options.subject ?? '/CN=www.example.com');
    if (options.san?.length) args.push('-addext', `subjectAltName=${options.san.map((name) => `DNS:${name}`).join(',')}`);
    await run('openssl', args);
    return { certificate: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
