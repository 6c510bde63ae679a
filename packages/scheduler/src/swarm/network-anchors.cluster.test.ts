/**
 * The swarm backend keeps an anchor on the overlay network on every node (network-anchors.ts) from its first start
 * on, never takes them for its containers, and removes them when it closes, so that the network can go.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { ANCHOR_LABEL, anchorServiceName, ensureAnchors, removeAnchors } from './network-anchors.ts';
import { SwarmScheduler } from './swarm-scheduler.ts';
import { eventually } from '../scheduler-contract.ts';
import { BASE_IMAGE } from '../stack-images.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

interface AnchorContainer {
  Id: string;
  State: string;
  NetworkSettings: { Networks: Record<string, unknown> };
}

async function anchorsOn(docker: Docker, platformName: string): Promise<AnchorContainer[]> {
  return (await docker.listContainers({ all: true, filters: { label: [`${ANCHOR_LABEL}=${platformName}`] } })) as AnchorContainer[];
}

const runningOnEveryNode = (perNode: AnchorContainer[][]) => perNode.every((containers) => containers.some((c) => c.State === 'running'));

describe('network anchors on the swarm', () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const manager = nodes[0]!;
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-anchor-${id}`;
  let scheduler: SwarmScheduler | undefined;

  afterAll(async () => {
    await scheduler?.stop(`anchored-${id}`, 0).catch(() => undefined);
    await scheduler?.close();
    await removeAnchors(manager, nodes, platformName);
    for (let attempt = 0; attempt < 100; attempt++) {
      const gone = await manager.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('anchors every node to the overlay from the first start, and removes the anchors on close', async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.248.0/24', containerKey: randomBytes(16).toString('hex') });
    const readAll = () => Promise.all(nodes.map((docker) => anchorsOn(docker, platformName)));
    expect((await readAll()).flat()).toEqual([]);
    const name = `anchored-${id}`;
    await scheduler.start({ name, image: BASE_IMAGE, command: ['sleep', '600'], env: {}, labels: { run: id } });
    const perNode = await eventually(readAll, runningOnEveryNode, 60_000);
    expect(runningOnEveryNode(perNode)).toBe(true);
    const networkId = ((await manager.getNetwork(platformName).inspect()) as { Id: string }).Id;
    for (const containers of perNode) expect(Object.values(containers.find((c) => c.State === 'running')!.NetworkSettings.Networks).map((n) => (n as { NetworkID: string }).NetworkID)).toEqual([networkId]);
    // Not the platform's containers: the scheduler lists and counts only what it started.
    expect((await scheduler.list({})).map((container) => container.name)).toEqual([name]);
    const counted = await eventually(() => scheduler!.listNodes(), (listed) => listed.reduce((sum, node) => sum + node.containers, 0) > 0, 30_000);
    expect(counted.reduce((sum, node) => sum + node.containers, 0)).toBe(1);

    // Ensured again, the same service stays.
    const service = (await manager.getService(anchorServiceName(platformName)).inspect()) as { ID: string };
    await ensureAnchors(manager, { platformName, networkName: platformName, image: BASE_IMAGE });
    expect(((await manager.getService(anchorServiceName(platformName)).inspect()) as { ID: string }).ID).toBe(service.ID);

    await scheduler.stop(name, 0);
    await scheduler.close();
    scheduler = undefined;
    await expect(manager.getService(anchorServiceName(platformName)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await readAll()).flat()).toEqual([]);
  }, 120_000);
});
