/**
 * The registry role on this host's engine (ADR 0019): Debian's docker-registry on 127.0.0.1 with the files the role
 * writes; an image built here is pushed through the builder's push code with the login, refused without it; deleting
 * its manifest and collecting garbage (read-only meanwhile) frees its layers, and the registry serves again after.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '@deis/builder/docker-build';
import { ImagePushError, pushImage } from '@deis/builder/registry-push';
import { checkLogin, DEFAULT_CERTS_DIR, deleteRegistryImage, forgetRegistryCa, manifestDigest, RegistryAuthError, trustRegistryCa } from '@deis/scheduler/registry/platform-registry';
import type { PlatformRegistry } from '@deis/scheduler/registry/platform-registry';
import { DockerScheduler } from '@deis/scheduler/docker/docker-scheduler';
import { freePort } from './free-port.ts';
import { startRegistry } from './registry-role.ts';
import type { RunningRegistry } from './registry-role.ts';
import { loadRegistrySettings } from './registry-settings.ts';

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : entry.isFile() ? statSync(path).size : 0;
  }
  return total;
}

describe('the registry role on this host', () => {
  const docker = new Dockerode();
  const id = randomBytes(3).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), `deis-registry-role-${id}-`));
  const password = randomBytes(18).toString('base64url');
  const logs: string[] = [];
  let running: RunningRegistry;
  let registry: PlatformRegistry;
  let image: string;

  beforeAll(async () => {
    const port = await freePort();
    const settings = loadRegistrySettings({ dataDir }, { DEIS_REGISTRY_LISTEN: `127.0.0.1:${port}`, DEIS_REGISTRY_PASSWORD: password });
    running = await startRegistry(settings, (line) => logs.push(line));
    registry = { address: running.address, login: { username: 'deis', password }, ca: readFileSync(running.paths.caCert, 'utf8') };
    trustRegistryCa(running.address, registry.ca!);
    image = `${running.address}/regtest-${id}:git-${randomBytes(4).toString('hex')}`;
  }, 60_000);

  afterAll(async () => {
    await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    await running?.stop();
    forgetRegistryCa(running.address);
    try {
      rmdirSync(DEFAULT_CERTS_DIR);
    } catch {
      // another registry's trust lives there
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes pushes with its login only, deletes manifests, and frees their layers in garbage collection', async () => {
    await checkLogin(registry);
    await expect(checkLogin({ ...registry, login: { username: 'deis', password: 'wrong' } })).rejects.toBeInstanceOf(RegistryAuthError);

    const context = pack();
    const dockerfile = `FROM deis/base:busybox\nRUN head -c 1500000 /dev/urandom > /payload && echo ${id} > /id\n`;
    context.entry({ name: 'Dockerfile' }, dockerfile);
    context.finalize();
    await buildImage({ docker, context, tag: image, onLine: () => undefined });

    const refused = await pushImage(docker, { address: running.address, username: 'deis', password: 'wrong' }, image, () => undefined).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ImagePushError);
    expect((refused as Error).message).toMatch(/refused the platform's login \(user deis\)/);

    await pushImage(docker, { address: running.address, username: 'deis', password }, image, () => undefined);
    const tag = image.split(':').at(-1)!;
    const name = `regtest-${id}`;
    expect(await manifestDigest(registry, name, tag)).toMatch(/^sha256:/);

    // The Docker backend given the registry pulls its images with the platform's login, and deletes them from it.
    const scheduler = new DockerScheduler({ docker, platformName: `regtest-${id}`, networkName: `regtest-${id}`, networkSubnet: '100.125.30.0/24', containerKey: randomBytes(16).toString('hex'), registry });
    await docker.getImage(image).remove();
    expect(await scheduler.imagePorts(image)).toBeNull();
    await scheduler.ensureImage(image);
    expect(await scheduler.imagePorts(image)).toEqual([]);
    const storage = running.paths.storage;
    const before = bytesUnder(storage);
    await scheduler.removeImage(image);
    expect(await scheduler.imagePorts(image)).toBeNull();
    expect(await manifestDigest(registry, name, tag)).toBeNull();
    expect(await deleteRegistryImage(registry, image)).toBe('absent');
    const report = await running.collectGarbage();
    expect(report.blobs).toBeGreaterThanOrEqual(2);
    expect(bytesUnder(storage)).toBeLessThan(before - 1_000_000);
    // Serving again, writable: the image (built again, from the cache) goes back in.
    const again = pack();
    again.entry({ name: 'Dockerfile' }, dockerfile);
    again.finalize();
    await buildImage({ docker, context: again, tag: image, onLine: () => undefined });
    await pushImage(docker, { address: running.address, username: 'deis', password }, image, () => undefined);
    expect(await manifestDigest(registry, name, tag)).toMatch(/^sha256:/);
    expect(logs.join('\n')).not.toContain(password);
  }, 120_000);

  it('starts the registry again when it dies', async () => {
    // The registry child serving this test's configuration (its data directory is this test's own).
    const pid = Number(execFileSync('pgrep', ['-f', `serve ${running.paths.config}`], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 20_000;
    while (!logs.some((line) => line.includes('docker-registry exited')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    let answered = false;
    while (!answered && Date.now() < deadline) {
      answered = await checkLogin(registry).then(() => true, () => false);
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logs.some((line) => line.includes('docker-registry exited'))).toBe(true);
    expect(answered).toBe(true);
  }, 30_000);
});
