/**
 * The Docker backend passes the scheduler contract, on a network and platform name of its own that are removed after.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import Docker from 'dockerode';
import { describeSchedulerContract } from '../scheduler-contract.ts';
import { ensureStackImages } from '../stack-images.ts';
import { CONTRACT_IMAGE_PORTS, buildContractImage, buildContractImageCopy } from './contract-app-image.ts';
import { DockerScheduler, PLATFORM_LABEL, PORT_LABEL, SPEC_LABELS_LABEL } from './docker-scheduler.ts';
import { removeLinkLocalBlock } from './link-local-firewall.ts';
import { removePlatformNetwork } from './platform-network.ts';

describeSchedulerContract('docker', async () => {
  const docker = new Docker();
  const id = randomBytes(4).toString('hex');
  const platformName = `deis-test-contract-${id}`;
  const image = `deis-test/contract:${id}`;
  await ensureStackImages(docker);
  await buildContractImage(docker, image);
  const networkSubnet = `100.${randomInt(96, 128)}.${randomInt(0, 256)}.0/24`;
  const scheduler = await DockerScheduler.create({ docker, platformName, networkName: platformName, networkSubnet, containerKey: randomBytes(16).toString('hex') });
  const copies: string[] = [];
  return {
    scheduler,
    image,
    exposedPorts: CONTRACT_IMAGE_PORTS,
    // node is a file of its own; busybox's applets, sh among them, are symbolic links to it.
    executables: ['/usr/bin/node', '/bin/sh'],
    missingImage: `deis-test/missing:${id}`,
    makeImage: async () => {
      const copy = `deis-test/contract-copy:${id}-${copies.length + 1}`;
      copies.push(copy);
      await buildContractImageCopy(docker, image, copy);
      return copy;
    },
    // As a build's RUN container would be: a Dockerfile's LABEL lines copy every label but the secret key.
    startImpostor: async (name, labels) => {
      const container = await docker.createContainer({
        name,
        Image: image,
        Env: ['PORT=5000'],
        Labels: { ...labels, [PLATFORM_LABEL]: platformName, [SPEC_LABELS_LABEL]: JSON.stringify(labels), [PORT_LABEL]: '5000' },
        HostConfig: { NetworkMode: platformName, Init: true },
      });
      await container.start();
    },
    removeImpostor: async (name) => {
      try {
        await docker.getContainer(name).remove({ force: true });
        return true;
      } catch {
        return false;
      }
    },
    cleanup: async () => {
      scheduler.close();
      for (const container of await docker.listContainers({ all: true, filters: { label: [`${PLATFORM_LABEL}=${platformName}`] } })) {
        await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
      }
      await removePlatformNetwork(docker, platformName);
      await removeLinkLocalBlock(platformName, networkSubnet);
      for (const copy of copies) await docker.getImage(copy).remove({ force: true }).catch(() => undefined);
      await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    },
  };
});
