/**
 * The swarm backend keeps an anchor on the overlay network on every node (network-anchors.ts) from its first start
 * on, makes one again that is gone, and removes them all when it closes, so that the network can go.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorName, ensureAnchor } from './network-anchors.ts';
import { SwarmScheduler } from './swarm-scheduler.ts';
import { BASE_IMAGE } from '../stack-images.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

interface AnchorInfo {
  Id: string;
  State: { Running: boolean };
  NetworkSettings: { Networks: Record<string, unknown> };
}

async function anchorOn(docker: Docker, platformName: string): Promise<AnchorInfo | undefined> {
  return (await docker
    .getContainer(anchorName(platformName))
    .inspect()
    .catch(() => undefined)) as AnchorInfo | undefined;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('network anchors on the swarm', () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-anchor-${id}`;
  let scheduler: SwarmScheduler | undefined;

  afterAll(async () => {
    await scheduler?.close();
    for (let attempt = 0; attempt < 50; attempt++) {
      const gone = await nodes[0]!.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('anchors every node to the overlay from the first start, and removes the anchors on close', async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.248.0/24', containerKey: randomBytes(16).toString('hex') });
    for (const docker of nodes) expect(await anchorOn(docker, platformName)).toBeUndefined();
    const name = `anchored-${id}`;
    await scheduler.start({ name, image: BASE_IMAGE, command: ['sleep', '600'], env: {}, labels: { run: id } });
    const anchors = await Promise.all(nodes.map((docker) => eventually(() => anchorOn(docker, platformName), (info) => info?.State.Running === true, 30_000)));
    for (const anchor of anchors) {
      expect(anchor?.State.Running).toBe(true);
      expect(Object.keys(anchor!.NetworkSettings.Networks)).toEqual([platformName]);
    }
    // Not a task: the scheduler lists only what it started.
    expect((await scheduler.list({})).map((container) => container.name)).toEqual([name]);

    // Ensured again, a running anchor stays; one that stopped is made anew.
    const options = { platformName, networkName: platformName, image: BASE_IMAGE };
    await ensureAnchor(nodes[1]!, options);
    expect((await anchorOn(nodes[1]!, platformName))?.Id).toBe(anchors[1]!.Id);
    await nodes[1]!.getContainer(anchors[1]!.Id).stop({ t: 0 });
    await ensureAnchor(nodes[1]!, options);
    const renewed = await anchorOn(nodes[1]!, platformName);
    expect(renewed?.State.Running).toBe(true);
    expect(renewed?.Id).not.toBe(anchors[1]!.Id);

    await scheduler.stop(name, 0);
    await scheduler.close();
    scheduler = undefined;
    for (const docker of nodes) expect(await anchorOn(docker, platformName)).toBeUndefined();
  }, 120_000);
});
