/**
 * The docker backend's one node: this host's engine, labelled by the platform's DEIS_NODE_LABELS, counting only the
 * platform's own running containers.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerScheduler, PLATFORM_LABEL } from './docker-scheduler.ts';
import { removeLinkLocalBlock } from './link-local-firewall.ts';

const docker = new Docker();
const platformName = `swp-nodes-${randomBytes(3).toString('hex')}`;
const impostor = `${platformName}-impostor`;
const networkSubnet = `100.125.${randomInt(10, 20)}.0/24`;

describe('DockerScheduler.listNodes', () => {
  let scheduler: DockerScheduler;
  beforeAll(async () => {
    scheduler = await DockerScheduler.create({
      docker,
      platformName,
      networkName: platformName,
      networkSubnet,
      containerKey: randomBytes(16).toString('hex'),
      nodeLabels: { environ: 'prod' },
    });
  });
  afterAll(async () => {
    for (const container of await scheduler.list({})) await scheduler.stop(container.name, 0);
    await docker.getContainer(impostor).remove({ force: true }).catch(() => undefined);
    await docker.getNetwork(platformName).remove().catch(() => undefined);
    await removeLinkLocalBlock(platformName, networkSubnet);
  });

  it('is this host, with the labels it was given and the platform\'s running containers', async () => {
    const info = (await docker.info()) as { ID: string; Name: string };
    expect(await scheduler.listNodes()).toEqual([
      { id: info.ID, hostname: info.Name, address: null, state: 'ready', availability: 'active', role: 'manager', labels: { environ: 'prod' }, containers: 0 },
    ]);
    await scheduler.start({ name: `${platformName}-web`, image: 'deis/base:busybox', command: ['sleep', '60'], env: {}, labels: { app: 'x' } });
    // A container that claims the platform's name without its key is not the platform's.
    const other = await docker.createContainer({ name: impostor, Image: 'deis/base:busybox', Cmd: ['sleep', '60'], Labels: { [PLATFORM_LABEL]: platformName } });
    await other.start();
    expect((await scheduler.listNodes())[0]!.containers).toBe(1);
  });
});
