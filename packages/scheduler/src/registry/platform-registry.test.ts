import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagePullAuth } from '../swarm/swarm-registry-pull.ts';
import { checkRegistryAddress, deleteRegistryImage, engineAuth, forgetRegistryCa, RegistryAuthError, registryRepository, trustRegistryCa } from './platform-registry.ts';
import type { PlatformRegistry } from './platform-registry.ts';

const digestOf = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** Enough of the registry API v2 for deletes: tags to digests per repository, basic auth, DELETE by digest. */
class FakeRegistry {
  readonly tags = new Map<string, string>([
    ['web:git-1', digestOf(1)],
    ['web:git-2', digestOf(2)],
    ['web:git-3', digestOf(2)],
  ]);
  readonly deleted: string[] = [];
  readonly accepts: string[] = [];
  server!: Server;

  listen(key: string, cert: string): Promise<number> {
    this.server = createServer({ key, cert }, (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('deis:right').toString('base64')}`) return void res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      const tags = /^\/v2\/(.+)\/tags\/list$/.exec(req.url ?? '');
      if (tags) {
        const names = [...this.tags.keys()].filter((k) => k.startsWith(`${tags[1]}:`)).map((k) => k.split(':')[1]);
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: tags[1], tags: names }));
      }
      const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(req.url ?? '');
      if (!manifest) return void res.writeHead(404).end();
      const [, name, ref] = manifest;
      if (req.method === 'HEAD') {
        this.accepts.push(String(req.headers.accept));
        const digest = this.tags.get(`${name}:${decodeURIComponent(ref!)}`);
        return void (digest ? res.writeHead(200, { 'docker-content-digest': digest }).end() : res.writeHead(404).end());
      }
      if (req.method === 'DELETE') {
        const matching = [...this.tags].filter(([k, d]) => k.startsWith(`${name}:`) && d === ref);
        if (matching.length === 0) return void res.writeHead(404).end();
        for (const [k] of matching) this.tags.delete(k);
        this.deleted.push(`${name}@${ref}`);
        return void res.writeHead(202).end();
      }
      res.writeHead(405).end();
    });
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)));
  }
}

describe('the platform registry client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'platform-registry-'));
  const fake = new FakeRegistry();
  let registry: PlatformRegistry;

  beforeAll(async () => {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-keyout', key, '-out', cert, '-subj', '/CN=registry', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const port = await fake.listen(readFileSync(key, 'utf8'), readFileSync(cert, 'utf8'));
    registry = { address: `127.0.0.1:${port}`, login: { username: 'deis', password: 'right' }, ca: readFileSync(cert, 'utf8') };
  });
  afterAll(() => {
    fake.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the repository and tag of an image of the registry, and nothing of another', () => {
    expect(registryRepository('10.0.0.5:5000/web:git-1', '10.0.0.5:5000')).toEqual({ name: 'web', tag: 'git-1' });
    expect(registryRepository('10.0.0.5:5000/team/web:v1@sha256:abc', '10.0.0.5:5000')).toEqual({ name: 'team/web', tag: 'v1' });
    expect(registryRepository('10.0.0.5:50000/web:git-1', '10.0.0.5:5000')).toBeNull();
    expect(registryRepository('web:git-1', '10.0.0.5:5000')).toBeNull();
    expect(registryRepository('10.0.0.5:5000/web', '10.0.0.5:5000')).toBeNull();
    expect(checkRegistryAddress('registry.example.com')).toBe('registry.example.com');
    for (const bad of ['https://10.0.0.5', '../etc', 'web', '10.0.0.5:5000/x']) expect(() => checkRegistryAddress(bad), bad).toThrow(/host:port/);
  });

  it('deletes a manifest by the digest its tag names, asking for schema 2 manifests', async () => {
    await expect(deleteRegistryImage(registry, `${registry.address}/web:git-1`)).resolves.toBe('deleted');
    expect(fake.deleted).toEqual([`web@${digestOf(1)}`]);
    expect(fake.accepts.at(-1)).toContain('application/vnd.docker.distribution.manifest.v2+json');
    await expect(deleteRegistryImage(registry, `${registry.address}/web:git-1`)).resolves.toBe('absent');
  });

  it('leaves a manifest another tag still names, since a delete by digest would take that tag too', async () => {
    await expect(deleteRegistryImage(registry, `${registry.address}/web:git-2`)).resolves.toBe('shared');
    expect(fake.tags.get('web:git-3')).toBe(digestOf(2));
  });

  it('says plainly when the registry refuses the login', async () => {
    const wrong = { ...registry, login: { username: 'deis', password: 'wrong' } };
    const error = await deleteRegistryImage(wrong, `${registry.address}/web:git-3`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toBe(`the registry at ${registry.address} refused the login of user deis (reading web:git-3)`);
  });

  it("writes the engines' trust of the CA for the registry's address, and removes it", () => {
    const certsDir = join(dir, 'certs.d');
    const file = trustRegistryCa('10.0.0.5:5000', 'PEM', certsDir);
    expect(file).toBe(join(certsDir, '10.0.0.5:5000', 'ca.crt'));
    expect(readFileSync(file, 'utf8')).toBe('PEM');
    forgetRegistryCa('10.0.0.5:5000', certsDir);
    expect(existsSync(join(certsDir, '10.0.0.5:5000'))).toBe(false);
    expect(() => trustRegistryCa('../../etc', 'PEM', certsDir)).toThrow(/host:port/);
  });

  it("has nodes pull the platform's images with its login, images of allowed registries with the app's, and copy the rest", () => {
    const platform = { address: '10.0.0.5:5000', login: { username: 'deis', password: 'p' } };
    const allowed = new Set(['registry.example.com']);
    expect(imagePullAuth('10.0.0.5:5000/web:git-1', platform, allowed, undefined)).toEqual(engineAuth('10.0.0.5:5000', platform.login));
    expect(imagePullAuth('registry.example.com/team/web:v1', platform, allowed, { username: 'u', password: 'x' })).toEqual({ username: 'u', password: 'x', serveraddress: 'registry.example.com' });
    expect(imagePullAuth('registry.example.com/team/web:v1', platform, allowed, undefined)).toEqual({});
    expect(imagePullAuth('other.example.com/web:v1', platform, allowed, undefined)).toBeUndefined();
    expect(imagePullAuth('web:git-1', platform, allowed, undefined)).toBeUndefined();
    expect(imagePullAuth('10.0.0.5:5000/web:git-1', undefined, allowed, undefined)).toBeUndefined();
  });
});
