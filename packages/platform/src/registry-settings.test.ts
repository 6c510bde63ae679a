import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlatformRegistry } from '@deis/scheduler/registry/platform-registry';
import { pullRegistriesFromEnv, registryForRoles } from './registry-clients.ts';
import { parseGarbageReport, worthLogging } from './registry-role.ts';
import { loadRegistrySettings, storedRegistryPassword } from './registry-settings.ts';

describe('registry settings', () => {
  let dataDir: string;
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const fresh = () => (dataDir = mkdtempSync(join(tmpdir(), 'registry-settings-')));

  it('listens on loopback port 5000 by default, for a login generated once into the secrets', () => {
    const settings = loadRegistrySettings({ dataDir: fresh() }, {});
    expect(settings).toMatchObject({ dir: join(dataDir, 'registry'), host: '127.0.0.1', port: 5000, names: ['127.0.0.1'], username: 'deis', gcIntervalSeconds: 86_400, binary: 'docker-registry' });
    const password = settings.password();
    expect(password.length).toBeGreaterThanOrEqual(32);
    const file = join(dataDir, 'secrets', 'registry-password');
    expect(readFileSync(file, 'utf8').trim()).toBe(password);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(loadRegistrySettings({ dataDir }, {}).password()).toBe(password);
    expect(storedRegistryPassword(dataDir)).toBe(password);
  });

  it('takes the listen address, the certificate names, the login and the GC period from the environment', () => {
    const settings = loadRegistrySettings(
      { dataDir: fresh() },
      { DEIS_REGISTRY_LISTEN: '100.124.0.11:5443', DEIS_REGISTRY_NAMES: 'registry.example.com, 10.0.0.5', DEIS_REGISTRY_USERNAME: 'pusher', DEIS_REGISTRY_PASSWORD: 'x'.repeat(20), DEIS_REGISTRY_GC_INTERVAL: '0' },
    );
    expect(settings).toMatchObject({ host: '100.124.0.11', port: 5443, names: ['100.124.0.11', 'registry.example.com', '10.0.0.5'], username: 'pusher', gcIntervalSeconds: 0 });
    expect(settings.password()).toBe('x'.repeat(20));
    expect(storedRegistryPassword(dataDir)).toBeNull();
  });

  it('reports every bad setting at once, never echoing the password', () => {
    const secret = 'short-secret';
    let message = '';
    try {
      loadRegistrySettings(
        { dataDir: fresh() },
        { DEIS_REGISTRY_LISTEN: 'localhost', DEIS_REGISTRY_NAMES: 'ok.example,bad name', DEIS_REGISTRY_USERNAME: 'a:b', DEIS_REGISTRY_PASSWORD: secret, DEIS_REGISTRY_GC_INTERVAL: '5' },
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DEIS_REGISTRY_LISTEN must be an IPv4 address and port');
    expect(message).toContain('"bad name" is neither');
    expect(message).toContain('DEIS_REGISTRY_USERNAME');
    expect(message).toContain('DEIS_REGISTRY_PASSWORD must be at least 16 characters');
    expect(message).toContain('DEIS_REGISTRY_GC_INTERVAL');
    expect(message).not.toContain(secret);
    expect(() => loadRegistrySettings({ dataDir }, { DEIS_REGISTRY_LISTEN: '0.0.0.0:5000' })).toThrow(/DEIS_REGISTRY_NAMES must name the address/);
  });

  it('gives the builder and the scheduler the registry, with the generated password when the data directory has it', () => {
    fresh();
    expect(registryForRoles({ dataDir }, {})).toBeNull();
    expect(() => registryForRoles({ dataDir }, { DEIS_REGISTRY: '10.0.0.5:5000' })).toThrow(/DEIS_REGISTRY_PASSWORD is not/);
    const password = loadRegistrySettings({ dataDir }, {}).password();
    expect(registryForRoles({ dataDir }, { DEIS_REGISTRY: '10.0.0.5:5000' })).toEqual({ address: '10.0.0.5:5000', login: { username: 'deis', password } });
    expect(loadPlatformRegistry({ DEIS_REGISTRY: '10.0.0.5:5000', DEIS_REGISTRY_USERNAME: 'u', DEIS_REGISTRY_PASSWORD: 'p' })).toEqual({ address: '10.0.0.5:5000', login: { username: 'u', password: 'p' } });
    expect(() => loadPlatformRegistry({ DEIS_REGISTRY: 'http://10.0.0.5:5000', DEIS_REGISTRY_PASSWORD: 'p' })).toThrow(/host:port/);
  });

  it('has this host\'s engines trust the given CA for the registry\'s address', async () => {
    fresh();
    const { writeRegistryFiles } = await import('./registry-files.ts');
    const paths = await writeRegistryFiles({ dir: join(dataDir, 'registry'), host: '127.0.0.1', port: 5000, names: ['127.0.0.1'], username: 'deis', password: 'p'.repeat(20) });
    const certsDir = join(dataDir, 'certs.d');
    const registry = registryForRoles({ dataDir }, { DEIS_REGISTRY: '127.0.0.1:5000', DEIS_REGISTRY_PASSWORD: 'p'.repeat(20), DEIS_REGISTRY_CA: paths.caCert }, certsDir);
    expect(registry?.ca).toBe(readFileSync(paths.caCert, 'utf8'));
    expect(readFileSync(join(certsDir, '127.0.0.1:5000', 'ca.crt'), 'utf8')).toBe(registry?.ca);
    expect(() => registryForRoles({ dataDir }, { DEIS_REGISTRY: '127.0.0.1:5000', DEIS_REGISTRY_PASSWORD: 'p', DEIS_REGISTRY_CA: paths.htpasswd }, certsDir)).toThrow(/no PEM certificate/);
  });

  it('reads the registries the nodes may pull apps\' images from', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'registry-settings-'));
    expect(pullRegistriesFromEnv({})).toEqual([]);
    expect(pullRegistriesFromEnv({ DEIS_SWARM_PULL_REGISTRIES: ' registry.example.com , 10.0.0.5:5000,' })).toEqual(['registry.example.com', '10.0.0.5:5000']);
    expect(() => pullRegistriesFromEnv({ DEIS_SWARM_PULL_REGISTRIES: 'https://registry.example.com' })).toThrow(/DEIS_SWARM_PULL_REGISTRIES: a registry address is host:port/);
  });

  it('reads what garbage collection freed, and keeps the challenges of logins out of the log', () => {
    expect(parseGarbageReport('blob eligible for deletion: sha256:aa\n12 blobs marked, 3 blobs and 0 manifests eligible for deletion\n')).toEqual({ blobs: 3, manifests: 0 });
    expect(parseGarbageReport('')).toEqual({ blobs: 0, manifests: 0 });
    expect(worthLogging('time="x" level=warning msg="error authorizing context: basic authentication challenge for realm \\"deis-registry\\": invalid authorization credential"')).toBe(false);
    expect(worthLogging('time="x" level=warning msg="error authorizing context: authentication failure"')).toBe(true);
    expect(worthLogging('time="x" level=info msg="response completed"')).toBe(false);
    expect(worthLogging('time="x" level=fatal msg="open /x: no such file"')).toBe(true);
  });
});
