/**
 * The Docker backend passes the scheduler contract, on a network and platform name of its own that are removed after.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import Docker from 'dockerode';
import { describeSchedulerContract } from '../scheduler-contract.ts';
import { ensureStackImages } from '../stack-images.ts';
import { CONTRACT_IMAGE_PORTS, buildContractImage, buildContractImageCopy } from './contract-app-image.ts';
import { DockerScheduler, PLATFORM_LABEL } from './docker-scheduler.ts';
import { removePlatformNetwork } from './platform-network.ts';

describeSchedulerContract('docker', async () => {
  const docker = new Docker();
  const id = randomBytes(4).toString('hex');
  const platformName = `deis-test-contract-${id}`;
  const image = `deis-test/contract:${id}`;
  await ensureStackImages(docker);
  await buildContractImage(docker, image);
  const scheduler = await DockerScheduler.create({
    docker,
    platformName,
    networkName: platformName,
    networkSubnet: `100.${randomInt(96, 128)}.${randomInt(0, 256)}.0/24`,
  });
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
    cleanup: async () => {
      scheduler.close();
      for (const container of await docker.listContainers({ all: true, filters: { label: [`${PLATFORM_LABEL}=${platformName}`] } })) {
        await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
      }
      await removePlatformNetwork(docker, platformName);
      for (const copy of copies) await docker.getImage(copy).remove({ force: true }).catch(() => undefined);
      await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    },
  };
});
