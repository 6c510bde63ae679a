import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRET_PASSWORD_LENGTH, bcryptCost, ensureRegistryTls, htpasswdLine, htpasswdMatches, registryConfig, registryPaths, subjectAltNames, writeRegistryFiles } from './registry-files.ts';

describe('registry files', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('hashes the login with bcrypt, which Distribution takes, and never writes the password', () => {
    const line = htpasswdLine('deis', 'correct horse battery');
    expect(line).toMatch(/^deis:\$2[aby]\$10\$[./A-Za-z0-9]{53}\n$/);
    expect(line).not.toContain('correct horse');
    expect(htpasswdMatches(line, 'deis', 'correct horse battery')).toBe(true);
    expect(htpasswdMatches(line, 'deis', 'wrong')).toBe(false);
    expect(htpasswdMatches(line, 'other', 'correct horse battery')).toBe(false);
  });

  it('hashes a random secret at the least cost, since the registry checks it on every request', () => {
    const secret = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdl';
    expect(secret.length).toBeGreaterThanOrEqual(SECRET_PASSWORD_LENGTH);
    expect(bcryptCost(secret)).toBe(4);
    expect(bcryptCost(secret.slice(0, SECRET_PASSWORD_LENGTH - 1))).toBe(10);
    const line = htpasswdLine('deis', secret);
    expect(line).toMatch(/^deis:\$2[aby]\$04\$/);
    expect(htpasswdMatches(line, 'deis', secret)).toBe(true);
    // A line of another cost no longer matches, so the registry role writes it again at the right one.
    expect(htpasswdMatches(htpasswdLine('deis', secret, 10), 'deis', secret)).toBe(false);
  });

  it('configures filesystem storage, TLS, the htpasswd login and deletes; read-only while collecting garbage', () => {
    const paths = registryPaths('/data/registry');
    const config = registryConfig({ paths, host: '100.124.0.11', port: 5000, readOnly: false, httpSecret: 's3cret' });
    expect(config).toContain('rootdirectory: "/data/registry/storage"');
    expect(config).toMatch(/delete:\n {4}enabled: true/);
    expect(config).toMatch(/readonly:\n {6}enabled: false/);
    expect(config).toContain('addr: "100.124.0.11:5000"');
    expect(config).toContain('certificate: "/data/registry/tls/server.crt"');
    expect(config).toContain('key: "/data/registry/tls/server.key"');
    expect(config).toMatch(/htpasswd:\n {4}realm: deis-registry\n {4}path: "\/data\/registry\/htpasswd"/);
    expect(registryConfig({ paths, host: '100.124.0.11', port: 5000, readOnly: true, httpSecret: 's' })).toMatch(/readonly:\n {6}enabled: true/);
  });

  it('names addresses as IP and host names as DNS in the certificate', () => {
    expect(subjectAltNames(['100.124.0.11', 'registry.example.com', '::1'])).toBe('IP:100.124.0.11,DNS:registry.example.com,IP:::1');
  });

  it('makes a CA and a server certificate for the names that chains to it, again only when the names change', async () => {
    dir = mkdtempSync(join(tmpdir(), 'registry-tls-'));
    const paths = registryPaths(dir);
    await ensureRegistryTls(paths, ['100.124.0.11', 'registry.test']);
    const verify = execFileSync('openssl', ['verify', '-CAfile', paths.caCert, paths.cert], { encoding: 'utf8' });
    expect(verify.trim()).toBe(`${paths.cert}: OK`);
    const text = execFileSync('openssl', ['x509', '-in', paths.cert, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toContain('IP Address:100.124.0.11');
    expect(text).toContain('DNS:registry.test');
    expect(text).toContain('TLS Web Server Authentication');
    expect(statSync(paths.caKey).mode & 0o077).toBe(0);
    expect(statSync(paths.key).mode & 0o077).toBe(0);
    const [ca, cert] = [readFileSync(paths.caCert, 'utf8'), readFileSync(paths.cert, 'utf8')];
    await ensureRegistryTls(paths, ['100.124.0.11', 'registry.test']);
    expect(readFileSync(paths.cert, 'utf8')).toBe(cert);
    await ensureRegistryTls(paths, ['100.124.0.12']);
    expect(readFileSync(paths.caCert, 'utf8')).toBe(ca);
    expect(readFileSync(paths.cert, 'utf8')).not.toBe(cert);
    expect(execFileSync('openssl', ['x509', '-in', paths.cert, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' })).toContain('IP Address:100.124.0.12');
  });

  it('writes every file, keeping a still-matching htpasswd line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'registry-files-'));
    const options = { dir, host: '127.0.0.1', port: 5000, names: ['127.0.0.1'], username: 'deis', password: 'a password of some length' };
    const paths = await writeRegistryFiles(options);
    const line = readFileSync(paths.htpasswd, 'utf8');
    expect(htpasswdMatches(line, 'deis', options.password)).toBe(true);
    expect(readFileSync(paths.config, 'utf8')).toContain('readonly:\n      enabled: false');
    expect(readFileSync(paths.readOnlyConfig, 'utf8')).toContain('readonly:\n      enabled: true');
    expect(statSync(paths.config).mode & 0o077).toBe(0);
    await writeRegistryFiles(options);
    expect(readFileSync(paths.htpasswd, 'utf8')).toBe(line);
    await writeRegistryFiles({ ...options, password: 'another password of length' });
    expect(htpasswdMatches(readFileSync(paths.htpasswd, 'utf8'), 'deis', 'another password of length')).toBe(true);
  });
});
