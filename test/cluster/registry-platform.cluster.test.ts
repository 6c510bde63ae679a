/**
 * The whole platform on the 3-node test cluster with its registry (ADR 0019): the registry role on node 1, the
 * builder pushing each `git push` there (`DEIS_REGISTRY`), the controllers' swarm scheduler having the nodes pull it;
 * with `DEIS_IMAGES_KEPT=1` an app's older images leave the registry as later releases go out. Through `git` and the
 * `deis` CLI on the client machine, as in platform-on-cluster.cluster.test.ts.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CERTS_DIR, forgetRegistryCa } from '@deis/scheduler/registry/platform-registry';
import type { AppRepo } from '../e2e/drivers/git.ts';
import { REPO_ROOT } from '../e2e/drivers/platform.ts';
import type { Completed } from '../e2e/drivers/processes.ts';
import { clusterEngines, clusterUp } from './cluster.ts';
import { clientRequest, clusterDeveloper, nodesOf, onNode, startClusterPlatform, until } from './cluster-platform.ts';
import type { ClusterDeveloper, ClusterPlatform } from './cluster-platform.ts';

const ADDRESS = '100.124.0.11:35732';
const APP = `regapp${randomBytes(2).toString('hex')}`;

describe('the platform on the cluster with its registry', () => {
  const password = randomBytes(18).toString('base64url');
  const work = mkdtempSync(join(tmpdir(), 'deis-regplatform-'));
  const caFile = join(work, 'data', 'registry', 'tls', 'ca.crt');
  let registryRole: ChildProcess | undefined;
  let registryOutput = '';
  let platform: ClusterPlatform | undefined;
  let developer: ClusterDeveloper;
  let repo: AppRepo;

  const expectOk = (result: Completed): Completed => {
    if (result.code !== 0) throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr}\n${platform?.outputs() ?? ''}`);
    return result;
  };

  /** The registry's status for `<app>:<tag>`, asked from node 1 with the login (given on stdin, not in arguments). */
  const manifestStatus = async (tag: string): Promise<number> => {
    const result = await onNode(
      1,
      'curl',
      ['-s', '-I', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, '-K', '-', '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json', `https://${ADDRESS}/v2/${APP}/manifests/${tag}`],
      { input: `user = "deis:${password}"\n` },
    );
    return Number(result.stdout);
  };

  /** The image the app's running web tasks run. */
  const runningImage = async (): Promise<string> => {
    const [manager] = clusterEngines();
    const tasks = (await manager!.listTasks({ filters: { 'desired-state': ['running'], label: [`io.deis.platform=${platform!.name}`] } })) as Array<{
      Status?: { State?: string };
      Spec?: { ContainerSpec?: { Image?: string; Labels?: Record<string, string> } };
    }>;
    const images = new Set(tasks.filter((t) => t.Status?.State === 'running' && t.Spec?.ContainerSpec?.Labels?.['io.deis.app'] === APP).map((t) => t.Spec?.ContainerSpec?.Image ?? ''));
    expect(images.size).toBe(1);
    return [...images][0]!;
  };

  beforeAll(async () => {
    await clusterUp();
    registryRole = spawn('nsenter', ['--net=/run/netns/deisc-node1', process.execPath, join(REPO_ROOT, 'dist', 'platform.js'), 'registry'], {
      env: { PATH: process.env.PATH, DEIS_DATA_DIR: join(work, 'data'), DEIS_REGISTRY_LISTEN: ADDRESS, DEIS_REGISTRY_PASSWORD: password, DEIS_REGISTRY_GC_INTERVAL: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    registryRole.stdout?.on('data', (chunk: Buffer) => (registryOutput += chunk.toString()));
    registryRole.stderr?.on('data', (chunk: Buffer) => (registryOutput += chunk.toString()));
    await until('the registry ready', () => {
      if (registryRole!.exitCode !== null) throw new Error(`the registry role exited: ${registryOutput}`);
      return registryOutput.includes('platform: ready');
    }, 30_000);
    // The builder and the controllers trust the CA (and write it to /etc/docker/certs.d, which the nodes share).
    platform = await startClusterPlatform({ DEIS_REGISTRY: ADDRESS, DEIS_REGISTRY_PASSWORD: password, DEIS_REGISTRY_CA: caFile, DEIS_IMAGES_KEPT: '1' });
    developer = await clusterDeveloper(platform);
    repo = await developer.newApp('node-hello', APP);
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    for (const engine of clusterEngines()) {
      for (const image of (await engine.listImages().catch(() => [])) as Array<{ RepoTags?: string[] }>) {
        for (const tag of image.RepoTags ?? []) if (tag.startsWith(`${ADDRESS}/`)) await engine.getImage(tag).remove({ force: true }).catch(() => undefined);
      }
    }
    if (registryRole && registryRole.exitCode === null) {
      const exited = new Promise((resolve) => registryRole!.once('exit', resolve));
      registryRole.kill('SIGTERM');
      await exited;
    }
    forgetRegistryCa(ADDRESS);
    try {
      rmdirSync(DEFAULT_CERTS_DIR);
    } catch {
      // another registry's trust lives there
    }
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('pushes each build through the registry, runs it on nodes that pulled it, and deletes pruned images from it', async () => {
    const pushed = expectOk(await repo.git(['push', 'deis', 'main']));
    expect(pushed.stdout + pushed.stderr).toContain(`Pushing to registry ${ADDRESS}`);
    expect(pushed.stdout + pushed.stderr).toContain(`Done, ${APP}:v2 deployed to Workflow`);
    expect(readFileSync(join(DEFAULT_CERTS_DIR, ADDRESS, 'ca.crt'), 'utf8')).toBe(readFileSync(caFile, 'utf8'));

    expectOk(await developer.deis(['scale', 'web=4', '-a', APP]));
    const nodes = await nodesOf(platform!, APP);
    expect(nodes).toHaveLength(4);
    expect(nodes.some((n) => n !== 1)).toBe(true);
    const first = await runningImage();
    expect(first).toMatch(new RegExp(`^${ADDRESS.replace(/\./g, '\\.')}/${APP}:git-[0-9a-f]{8}$`));
    const firstTag = first.split(':').at(-1)!;
    expect(await manifestStatus(firstTag)).toBe(200);
    const engines = clusterEngines();
    for (const n of new Set(nodes.filter((node) => node !== 1))) {
      const info = (await engines[n - 1]!.getImage(first).inspect()) as { RepoDigests?: string[] };
      expect(info.RepoDigests?.some((digest) => digest.startsWith(`${ADDRESS}/${APP}@sha256:`)), `node ${n} pulled it`).toBe(true);
    }
    let last = { status: 0, body: '' };
    await until('the app answers', async () => (last = await clientRequest(platform!.routers[0]!, `${APP}.${platform!.domain}`)).status === 200, 30_000, () => JSON.stringify(last));

    // Later releases: with DEIS_IMAGES_KEPT=1 the first image goes from the nodes and the registry once unused.
    const server = readFileSync(join(repo.dir, 'server.js'), 'utf8');
    for (let release = 3; release <= 5 && (await manifestStatus(firstTag)) !== 404; release++) {
      await repo.commitFile('server.js', `${server}// release ${release}\n`, `release ${release}`);
      const again = expectOk(await repo.git(['push', 'deis', 'main']));
      expect(again.stdout + again.stderr).toContain(`Done, ${APP}:v${release} deployed to Workflow`);
    }
    await until('the first image deleted from the registry', async () => (await manifestStatus(firstTag)) === 404, 60_000, () => platform!.outputs());
    const current = await runningImage();
    expect(current).not.toBe(first);
    expect(await manifestStatus(current.split(':').at(-1)!)).toBe(200);
    expect(registryOutput).not.toContain(password);
    expect(platform!.outputs()).not.toContain(password);
  }, 600_000);
});
