/**
 * Images across hosts through the platform's registry (ADR 0019), on the 3-node test swarm: the registry role runs
 * on node 1 (`platform.js registry` in its network namespace, TLS with the platform's own CA, a bcrypt login); an
 * image built on node 1's engine is pushed through the builder's push code; swarm services of it run on nodes 2 and
 * 3, which pulled it from the registry (nothing was copied); a wrong login is refused, in words; removing the image
 * deletes its manifest from the registry, and the registry's garbage collection then frees its layers' space.
 *
 * The test process runs in the host's network namespace, which has no route to the cluster: its HTTPS requests to
 * the registry (the scheduler's manifest deletes, the test's own checks) go through a forwarder in node 1's namespace,
 * reached over a unix socket, with the TLS (and the certificate's check for 100.124.0.11) end to end.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { globalAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '@deis/builder/docker-build';
import { ImagePushError, pushImage } from '@deis/builder/registry-push';
import { DEFAULT_CERTS_DIR, deleteRegistryImage, forgetRegistryCa, manifestDigest, RegistryAuthError, trustRegistryCa } from '@deis/scheduler/registry/platform-registry';
import type { PlatformRegistry } from '@deis/scheduler/registry/platform-registry';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { ImagePullDeniedError } from '@deis/scheduler/scheduler';
import { pullOnEngine } from '@deis/scheduler/swarm/swarm-registry-pull';
import { SwarmScheduler } from '@deis/scheduler/swarm/swarm-scheduler';
import { clusterEngines, clusterUp } from './cluster.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const NODE1_NET = '/run/netns/deisc-node1';
const HOST = '100.124.0.11';
const PORT = 35731;
const ADDRESS = `${HOST}:${PORT}`;

/** Total bytes of the regular files under `dir`. */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** Collects a child's output; `waitFor` resolves once a line matches. */
function watchOutput(child: ChildProcess): { text: () => string; waitFor: (pattern: RegExp, timeoutMs: number) => Promise<string> } {
  let text = '';
  const waiters = new Set<() => void>();
  const take = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const wake of [...waiters]) wake();
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  child.once('exit', () => {
    for (const wake of [...waiters]) wake();
  });
  return {
    text: () => text,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        const check = () => {
          const match = pattern.exec(text);
          if (match) {
            clearTimeout(timer);
            waiters.delete(check);
            resolvePromise(match[0]);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`the process exited (${child.exitCode}) before printing ${pattern}; output:\n${text}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

describe('images across hosts through the platform registry', () => {
  const [node1, node2, node3] = clusterEngines();
  const id = randomBytes(3).toString('hex');
  const app = `regtest-${id}`;
  const image = `${ADDRESS}/${app}:git-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const work = mkdtempSync(join(tmpdir(), `deis-regtest-${id}-`));
  const dataDir = join(work, 'data');
  const forwarderSocket = join(work, 'forward.sock');
  let role: ChildProcess | undefined;
  let roleOutput: ReturnType<typeof watchOutput>;
  let forwarder: ChildProcess | undefined;
  let registry: PlatformRegistry;
  let scheduler: SwarmScheduler | undefined;
  const containerKey = randomBytes(16).toString('hex');
  const image2 = `${ADDRESS}/${app}:git-${randomBytes(4).toString('hex')}`;
  const originalCreateConnection = (globalAgent as unknown as { createConnection: unknown }).createConnection;

  beforeAll(async () => {
    await clusterUp();
    expect(existsSync(join(REPO_ROOT, 'dist', 'platform.js'))).toBe(true);
    // The registry role, "on node 1".
    role = spawn('nsenter', [`--net=${NODE1_NET}`, process.execPath, join(REPO_ROOT, 'dist', 'platform.js'), 'registry'], {
      env: { PATH: process.env.PATH, DEIS_DATA_DIR: dataDir, DEIS_REGISTRY_LISTEN: ADDRESS, DEIS_REGISTRY_PASSWORD: password, DEIS_REGISTRY_GC_INTERVAL: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    roleOutput = watchOutput(role);
    await roleOutput.waitFor(/platform: ready/, 30_000);
    const ca = readFileSync(join(dataDir, 'registry', 'tls', 'ca.crt'), 'utf8');
    registry = { address: ADDRESS, login: { username: 'deis', password }, ca };
    // The nodes' engines share this host's /etc: one file has all three trust the platform's CA.
    trustRegistryCa(ADDRESS, ca);

    forwarder = spawn(
      'nsenter',
      [
        `--net=${NODE1_NET}`,
        process.execPath,
        '-e',
        "const net=require('net');const [sock,host,port]=process.argv.slice(1);net.createServer((c)=>{const u=net.connect(Number(port),host);c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(sock,()=>console.log('forwarding'));",
        forwarderSocket,
        HOST,
        String(PORT),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await watchOutput(forwarder).waitFor(/forwarding/, 10_000);
    // HTTPS to the registry's address goes over the forwarder; TLS and the name check are as on node 1.
    (globalAgent as unknown as { createConnection: (options: ConnectionOptions) => unknown }).createConnection = (options: ConnectionOptions) =>
      options.host === HOST && options.port === PORT ? connect({ ...options, path: forwarderSocket } as ConnectionOptions) : connect(options);
  }, 60_000);

  afterAll(async () => {
    (globalAgent as unknown as { createConnection: unknown }).createConnection = originalCreateConnection;
    if (scheduler) {
      for (const container of await scheduler.list({ regtest: id }).catch(() => [])) await scheduler.stop(container.name, 0).catch(() => undefined);
      await scheduler.close();
      for (let attempt = 0; attempt < 50; attempt++) {
        const gone = await node1!.getNetwork(app).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
        if (gone) break;
        await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
      }
    }
    for (const docker of [node1!, node2!, node3!]) {
      for (const name of [image, image2]) await docker.getImage(name).remove({ force: true }).catch(() => undefined);
    }
    await stopChild(forwarder);
    await stopChild(role);
    forgetRegistryCa(ADDRESS);
    // certs.d itself only if this test made it (it is empty then).
    try {
      rmdirSync(DEFAULT_CERTS_DIR);
    } catch {
      // not empty: another registry's trust lives there
    }
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('pushes a build with the platform login, runs it on nodes 2 and 3 by pulling, refuses a wrong login, and collects what was deleted', async () => {
    // A small image, built on node 1's engine (the builder's engine) under the registry's name.
    const context = pack();
    context.entry({ name: 'Dockerfile' }, `FROM deis/base:busybox\nRUN head -c 2000000 /dev/urandom > /payload && echo ${id} > /id\nCMD ["sh", "-c", "cat /id; exec sleep 3600"]\n`);
    context.finalize();
    const buildLines: string[] = [];
    await buildImage({ docker: node1!, context, tag: image, onLine: (line) => buildLines.push(line) });
    for (const docker of [node2!, node3!]) await expect(docker.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // A wrong login is refused, in words, and nothing reaches the registry.
    const wrong = { address: ADDRESS, username: 'deis', password: 'not-the-password' };
    const refused = await pushImage(node1!, wrong, image, () => undefined).then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ImagePushError);
    expect((refused as Error).message).toContain(`The registry ${ADDRESS} refused the platform's login (user deis)`);
    await expect(manifestDigest(registry, app, image.split(':').at(-1)!)).resolves.toBeNull();
    await expect(manifestDigest({ ...registry, login: { username: 'deis', password: 'nope' } }, app, 'x')).rejects.toBeInstanceOf(RegistryAuthError);

    const pushLines: string[] = [];
    await pushImage(node1!, { address: ADDRESS, username: 'deis', password }, image, (line) => pushLines.push(line));
    expect(pushLines.some((line) => /digest: sha256:[0-9a-f]{64}/.test(line))).toBe(true);
    const digest = await manifestDigest(registry, app, image.split(':').at(-1)!);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // A node's engine refuses to pull it with a wrong login.
    await expect(pullOnEngine(node2!, image, { username: 'deis', password: 'nope', serveraddress: ADDRESS })).rejects.toBeInstanceOf(ImagePullDeniedError);
    await expect(node2!.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // Services of it on the swarm: the nodes pull it with the platform's login.
    scheduler = await SwarmScheduler.create({ nodes: [node1!, node2!, node3!], platformName: app, networkName: app, networkSubnet: '100.125.30.0/24', containerKey, registry });
    await scheduler.ensureImage(image);
    const nodeIds = await Promise.all([node2!, node3!].map(async (docker) => ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID));
    const placed = new Set<string>();
    for (let n = 0; n < 8 && !nodeIds.every((node) => placed.has(node)); n++) {
      const name = `${app}-${n}`;
      await scheduler.start({ name, image, env: {}, labels: { regtest: id } });
      const [task] = (await node1!.listTasks({ filters: { service: [name] } })) as Array<{ NodeID: string }>;
      if (task) placed.add(task.NodeID);
    }
    expect(nodeIds.every((node) => placed.has(node))).toBe(true);
    const running = await eventually(
      () => scheduler!.list({ regtest: id }),
      (list) => list.length > 0 && list.every((container) => container.state === 'up'),
      60_000,
    );
    const printed = await eventually(
      () => scheduler!.logs(running[0]!.name, 5),
      (lines) => lines.some((line) => line.text === id),
      20_000,
    );
    expect(printed.some((line) => line.text === id)).toBe(true);
    // A pulled image carries the registry's digest; one copied with save/load would carry none.
    for (const docker of [node2!, node3!]) {
      const info = (await docker.getImage(image).inspect()) as { RepoDigests?: string[] };
      expect(info.RepoDigests).toContain(`${ADDRESS}/${app}@${digest}`);
    }

    // Removed: the services go, then the image from every node and its manifest from the registry.
    for (const container of running) await scheduler.stop(container.name, 0);
    const storage = join(dataDir, 'registry', 'storage');
    const before = bytesUnder(storage);
    await eventually(
      () => scheduler!.removeImage(image).then(() => true, () => false),
      (removed) => removed,
      30_000,
    );
    for (const docker of [node1!, node2!, node3!]) await expect(docker.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(manifestDigest(registry, app, image.split(':').at(-1)!)).resolves.toBeNull();
    await expect(deleteRegistryImage(registry, image)).resolves.toBe('absent');
    // Deleting a manifest only unlinks it (a few hundred bytes); its layers stay until garbage collection.
    expect(bytesUnder(storage)).toBeGreaterThan(before - 10_000);

    // Garbage collection (SIGUSR2 runs it now; the registry is read-only meanwhile) frees the layers' space.
    role!.kill('SIGUSR2');
    const freed = await roleOutput.waitFor(/garbage collection freed (\d+) blob\(s\)/, 60_000);
    expect(Number(/(\d+)/.exec(freed)![1])).toBeGreaterThanOrEqual(2);
    const after = bytesUnder(storage);
    expect(after).toBeLessThan(before - 1_000_000);
    // The registry serves again, with its login, after the collection.
    await expect(manifestDigest(registry, app, 'latest')).resolves.toBeNull();
    expect(roleOutput.text()).not.toContain(password);
  }, 240_000);

  it("has nodes pull an image of a registry the operator allows with the app's login (deis pull), and none without it", async () => {
    const context = pack();
    context.entry({ name: 'Dockerfile' }, `FROM deis/base:busybox\nRUN echo second-${id} > /id\nCMD ["sh", "-c", "cat /id; exec sleep 3600"]\n`);
    context.finalize();
    await buildImage({ docker: node1!, context, tag: image2, onLine: () => undefined });
    await pushImage(node1!, { address: ADDRESS, username: 'deis', password }, image2, () => undefined);
    // Only the registry has it now: no engine can run it without pulling.
    await node1!.getImage(image2).remove();
    const base = { nodes: [node1!, node2!, node3!], platformName: app, networkName: app, networkSubnet: '100.125.30.0/24', containerKey, pullRegistries: [ADDRESS] };

    // Without the app's login (no ensureImage gave one), the nodes are refused and the container never runs.
    const withoutLogin = await SwarmScheduler.create(base);
    await withoutLogin.start({ name: `${app}-nologin`, image: image2, env: {}, labels: { regtest: id, part: 'nologin' } });
    const crashed = await eventually(() => withoutLogin.list({ part: 'nologin' }), (list) => list[0]?.state === 'crashed', 60_000);
    expect(crashed[0]!.state).toBe('crashed');
    await withoutLogin.stop(`${app}-nologin`, 0);
    await withoutLogin.close();

    // With it (the app's `deis registry` login, given to ensureImage by the deploy), each node pulls it.
    const withLogin = await SwarmScheduler.create(base);
    await expect(withLogin.ensureImage(image2, { username: 'deis', password: 'wrong' })).rejects.toBeInstanceOf(ImagePullDeniedError);
    await withLogin.ensureImage(image2, { username: 'deis', password });
    expect(await withLogin.imagePorts(image2)).toEqual([]);
    const nodeIds = await Promise.all([node2!, node3!].map(async (docker) => ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID));
    const placed = new Set<string>();
    for (let n = 0; n < 8 && !nodeIds.every((node) => placed.has(node)); n++) {
      const name = `${app}-login-${n}`;
      await withLogin.start({ name, image: image2, env: {}, labels: { regtest: id, part: 'login' } });
      const [task] = (await node1!.listTasks({ filters: { service: [name] } })) as Array<{ NodeID: string }>;
      if (task) placed.add(task.NodeID);
    }
    expect(nodeIds.every((node) => placed.has(node))).toBe(true);
    const running = await eventually(() => withLogin.list({ part: 'login' }), (list) => list.length > 0 && list.every((c) => c.state === 'up'), 60_000);
    for (const docker of [node2!, node3!]) {
      const info = (await docker.getImage(image2).inspect()) as { RepoDigests?: string[] };
      expect(info.RepoDigests?.some((digest) => digest.startsWith(`${ADDRESS}/${app}@sha256:`))).toBe(true);
    }
    for (const container of running) await withLogin.stop(container.name, 0);
    await withLogin.close();
    await expect(deleteRegistryImage(registry, image2)).resolves.toBe('deleted');
  }, 240_000);
});
