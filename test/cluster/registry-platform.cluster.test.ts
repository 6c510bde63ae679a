/**
 * The whole platform on the 3-node test cluster with its registry (ADR 0019): the registry role on node 1, the
 * builder pushing each `git push` there (`DEIS_REGISTRY`), the controllers' swarm scheduler having the nodes pull it;
 * with `DEIS_IMAGES_KEPT=1` an app's older images leave the registry as later releases go out. Through `git` and the
 * `deis` CLI on the client machine, as in platform-on-cluster.cluster.test.ts.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CERTS_DIR } from '@deis/scheduler/registry/platform-registry';
import type { AppRepo } from '../e2e/drivers/git.ts';
import type { Completed } from '../e2e/drivers/processes.ts';
import { clusterEngines, clusterUp } from './cluster.ts';
import { clientRequest, clusterDeveloper, nodesOf, onNode, runningTasks, startClusterPlatform, until } from './cluster-platform.ts';
import type { ClusterDeveloper, ClusterPlatform } from './cluster-platform.ts';

const APP = `regapp${randomBytes(2).toString('hex')}`;

describe('the platform on the cluster with its registry', () => {
  let platform: ClusterPlatform | undefined;
  let registry: NonNullable<ClusterPlatform['registry']>;
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
      ['-s', '-I', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', registry.caFile, '-K', '-', '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json', `https://${registry.address}/v2/${APP}/manifests/${tag}`],
      { input: `user = "deis:${registry.password}"\n` },
    );
    return Number(result.stdout);
  };

  /** The image the app's running tasks run, once the previous release's have stopped (after its deploy answered). */
  const runningImage = async (): Promise<string> => {
    let images = new Set<string>();
    await until('one release running', async () => {
      images = new Set((await runningTasks(platform!)).filter((t) => t.labels['io.deis.app'] === APP).map((t) => t.image));
      return images.size === 1;
    }, 30_000, () => `images running: ${[...images].join(', ')}`);
    return [...images][0]!;
  };

  beforeAll(async () => {
    await clusterUp();
    platform = await startClusterPlatform({ DEIS_IMAGES_KEPT: '1' });
    registry = platform.registry!;
    developer = await clusterDeveloper(platform);
    repo = await developer.newApp('node-hello', APP);
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
  }, 120_000);

  it('pushes each build through the registry, runs it on nodes that pulled it, and deletes pruned images from it', async () => {
    const pushed = expectOk(await repo.git(['push', 'deis', 'main']));
    expect(pushed.stdout + pushed.stderr).toContain(`Pushing to registry ${registry.address}`);
    expect(pushed.stdout + pushed.stderr).toContain(`Done, ${APP}:v2 deployed to Workflow`);
    expect(readFileSync(join(DEFAULT_CERTS_DIR, registry.address, 'ca.crt'), 'utf8')).toBe(readFileSync(registry.caFile, 'utf8'));

    expectOk(await developer.deis(['scale', 'web=4', '-a', APP]));
    const nodes = await nodesOf(platform!, APP);
    expect(nodes).toHaveLength(4);
    expect(nodes.some((n) => n !== 1)).toBe(true);
    const first = await runningImage();
    expect(first).toMatch(new RegExp(`^${registry.address.replace(/\./g, '\\.')}/${APP}:git-[0-9a-f]{8}$`));
    const firstTag = first.split(':').at(-1)!;
    expect(await manifestStatus(firstTag)).toBe(200);
    const engines = clusterEngines();
    for (const n of new Set(nodes.filter((node) => node !== 1))) {
      const info = (await engines[n - 1]!.getImage(first).inspect()) as { RepoDigests?: string[] };
      expect(info.RepoDigests?.some((digest) => digest.startsWith(`${registry.address}/${APP}@sha256:`)), `node ${n} pulled it`).toBe(true);
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
    expect(platform!.outputs()).not.toContain(registry.password);
  }, 600_000);
});
