/**
 * The swarm backend passes the scheduler contract on the 3-node test cluster (scripts/cluster.sh), on a network and
 * platform name of its own that are removed after.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import Docker from 'dockerode';
import { describeSchedulerContract } from '../scheduler-contract.ts';
import { CONTRACT_IMAGE_PORTS, buildContractImage, buildContractImageCopy } from '../docker/contract-app-image.ts';
import { PLATFORM_LABEL, PORT_LABEL, SPEC_LABELS_LABEL } from '../docker/docker-scheduler.ts';
import { SwarmScheduler } from './swarm-scheduler.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

describeSchedulerContract('swarm', async () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const manager = nodes[0]!;
  const id = randomBytes(4).toString('hex');
  const platformName = `deis-test-swarm-${id}`;
  const image = `deis-test/contract:${id}`;
  await buildContractImage(manager, image);
  const networkSubnet = `100.125.${randomInt(128, 256)}.0/24`;
  const scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet, containerKey: randomBytes(16).toString('hex') });
  const copies: string[] = [];
  return {
    scheduler,
    image,
    exposedPorts: CONTRACT_IMAGE_PORTS,
    executables: ['/usr/bin/node', '/bin/sh'],
    missingImage: `deis-test/missing:${id}`,
    makeImage: async () => {
      const copy = `deis-test/contract-copy:${id}-${copies.length + 1}`;
      copies.push(copy);
      await buildContractImageCopy(manager, image, copy);
      return copy;
    },
    // A service that carries every label but the secret key, as a tenant who could create services would make.
    startImpostor: async (name, labels) => {
      const all = { ...labels, [PLATFORM_LABEL]: platformName, [SPEC_LABELS_LABEL]: JSON.stringify(labels), [PORT_LABEL]: '5000' };
      await manager.createService({
        Name: name,
        Labels: all,
        TaskTemplate: { ContainerSpec: { Image: image, Env: ['PORT=5000'], Labels: all }, RestartPolicy: { Condition: 'none' }, Networks: [{ Target: platformName }] },
        Mode: { Replicated: { Replicas: 1 } },
      } as never);
    },
    removeImpostor: async (name) => {
      try {
        await manager.getService(name).remove();
        return true;
      } catch {
        return false;
      }
    },
    cleanup: async () => {
      await scheduler.close();
      for (const service of (await manager.listServices({ filters: { label: [`${PLATFORM_LABEL}=${platformName}`] } })) as Array<{ ID: string }>) {
        await manager.getService(service.ID).remove().catch(() => undefined);
      }
      // The overlay network goes once the nodes have removed the services' containers.
      for (let attempt = 0; attempt < 50; attempt++) {
        const removed = await manager
          .getNetwork(platformName)
          .remove()
          .then(() => true)
          .catch((error: { statusCode?: number }) => error.statusCode === 404);
        if (removed) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const docker of nodes) {
        for (const name of [...copies, image]) await docker.getImage(name).remove({ force: true }).catch(() => undefined);
      }
    },
  };
});
