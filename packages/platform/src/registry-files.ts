/**
 * The files the registry role gives Distribution (ADR 0019): a CA of the platform's own and a server certificate
 * signed by it for the registry's names (made with the openssl program, arguments only, no shell), the htpasswd file
 * of its one login (bcrypt), and its configuration: filesystem storage in the data directory, TLS, that login,
 * deletes enabled so pruned images can be collected. A second configuration, read-only, is what the registry runs
 * with while its garbage collection runs.
 * @module
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';

const run = promisify(execFile);

export interface RegistryPaths {
  storage: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
  htpasswd: string;
  config: string;
  readOnlyConfig: string;
}

export function registryPaths(dir: string): RegistryPaths {
  const tls = join(dir, 'tls');
  return {
    storage: join(dir, 'storage'),
    caCert: join(tls, 'ca.crt'),
    caKey: join(tls, 'ca.key'),
    cert: join(tls, 'server.crt'),
    key: join(tls, 'server.key'),
    htpasswd: join(dir, 'htpasswd'),
    config: join(dir, 'config.yml'),
    readOnlyConfig: join(dir, 'config-readonly.yml'),
  };
}

/** A password this long is taken for a random secret, as the generated one (32 characters, 192 bits) is. */
export const SECRET_PASSWORD_LENGTH = 24;

/**
 * The bcrypt cost of a password's hash. Distribution checks the hash on every request (each layer a push offers,
 * each pull a task makes), so its cost is paid over and over on the deploy's path. A cost slows the guessing of a
 * weak password from a stolen htpasswd file; a random secret cannot be guessed at any cost, and gets bcrypt's least.
 */
export function bcryptCost(password: string): number {
  return password.length >= SECRET_PASSWORD_LENGTH ? 4 : 10;
}

/** One htpasswd line: Distribution takes bcrypt only. */
export function htpasswdLine(username: string, password: string, rounds = bcryptCost(password)): string {
  return `${username}:${bcrypt.hashSync(password, rounds)}\n`;
}

/** Whether `line` (an htpasswd entry) is `username` with `password`, hashed at the cost it should have. */
export function htpasswdMatches(line: string, username: string, password: string): boolean {
  const colon = line.indexOf(':');
  if (colon <= 0 || line.slice(0, colon) !== username) return false;
  const hash = line.slice(colon + 1).trim();
  return bcrypt.getRounds(hash) === bcryptCost(password) && bcrypt.compareSync(password, hash);
}

export interface RegistryConfigOptions {
  paths: RegistryPaths;
  host: string;
  port: number;
  /** The registry refuses pushes and deletes: while garbage collection runs. */
  readOnly: boolean;
  /** Signs the registry's upload state; one registry, so a new one each start does. */
  httpSecret: string;
}

/** Distribution's configuration (YAML; every string written as JSON, which YAML reads as it is). */
export function registryConfig(options: RegistryConfigOptions): string {
  const { paths } = options;
  const q = (value: string): string => JSON.stringify(value);
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(paths.storage)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: true',
    '      age: 168h',
    '      interval: 24h',
    '      dryrun: false',
    '    readonly:',
    `      enabled: ${options.readOnly}`,
    'http:',
    `  addr: ${q(`${options.host}:${options.port}`)}`,
    `  secret: ${q(options.httpSecret)}`,
    '  tls:',
    `    certificate: ${q(paths.cert)}`,
    `    key: ${q(paths.key)}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    'auth:',
    '  htpasswd:',
    '    realm: deis-registry',
    `    path: ${q(paths.htpasswd)}`,
    '',
  ].join('\n');
}

/** `subjectAltName` of a certificate for `names`: IP entries for addresses, DNS entries for host names. */
export function subjectAltNames(names: string[]): string {
  return names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (error as Error).message}`);
  }
}

/**
 * The CA (made once, kept) and a server certificate for `names`, made again when the names change. The CA's key
 * stays in the data directory, readable by root only; nodes are given only its certificate.
 */
export async function ensureRegistryTls(paths: RegistryPaths, names: string[]): Promise<void> {
  const tls = join(paths.caCert, '..');
  mkdirSync(tls, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    await openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', '3650',
      '-keyout', paths.caKey, '-out', paths.caCert, '-subj', '/CN=Deis registry CA',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  const namesFile = join(tls, 'server.names');
  const wanted = names.join(',');
  const current = existsSync(namesFile) ? readFileSync(namesFile, 'utf8') : null;
  if (current === wanted && existsSync(paths.cert) && existsSync(paths.key)) return;
  const csr = join(tls, 'server.csr');
  const extensions = join(tls, 'server.ext');
  writeFileSync(extensions, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${subjectAltNames(names)}\n`, { mode: 0o600 });
  try {
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-keyout', paths.key, '-out', csr, '-subj', `/CN=${names[0] ?? 'registry'}`]);
    await openssl(['x509', '-req', '-sha256', '-days', '825', '-in', csr, '-CA', paths.caCert, '-CAkey', paths.caKey, '-CAcreateserial', '-extfile', extensions, '-out', paths.cert]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(extensions, { force: true });
  }
  writeFileSync(namesFile, wanted, { mode: 0o600 });
}

/** Every file the registry reads, written afresh from the settings (the password is hashed, never written as is). */
export async function writeRegistryFiles(options: { dir: string; host: string; port: number; names: string[]; username: string; password: string }): Promise<RegistryPaths> {
  const paths = registryPaths(options.dir);
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.storage, { recursive: true, mode: 0o700 });
  await ensureRegistryTls(paths, options.names);
  const existing = existsSync(paths.htpasswd) ? readFileSync(paths.htpasswd, 'utf8') : '';
  // A new hash each start would be harmless, but bcrypt may be slow on purpose: keep the line while it still matches
  // (a line of an older cost is written again).
  if (!htpasswdMatches(existing, options.username, options.password)) writeFileSync(paths.htpasswd, htpasswdLine(options.username, options.password), { mode: 0o600 });
  const httpSecret = randomBytes(32).toString('hex');
  writeFileSync(paths.config, registryConfig({ paths, host: options.host, port: options.port, readOnly: false, httpSecret }), { mode: 0o600 });
  writeFileSync(paths.readOnlyConfig, registryConfig({ paths, host: options.host, port: options.port, readOnly: true, httpSecret }), { mode: 0o600 });
  return paths;
}
