/**
 * An idle container on each node, attached to the platform's overlay network. Swarm takes a node's part of an overlay
 * down when the last container there leaves it, and builds it again for the next one: on the test cluster a task
 * landing on such a node took about 0.5 s longer to start than on a node where the network was up. Swarm spreads a
 * deploy's new task to the node with the fewest tasks, which is often one with none, so without an anchor many deploys
 * would pay that. The anchor is a plain container, not a task: Swarm does not count it when it places tasks.
 * @module
 */
import type Docker from 'dockerode';
import { PLATFORM_LABEL } from '../docker/docker-scheduler.ts';

export interface AnchorOptions {
  platformName: string;
  networkName: string;
  /** An image every node has, with `sleep`. */
  image: string;
}

export function anchorName(platformName: string): string {
  return `${platformName}-anchor`;
}

/** Makes the node's anchor run, unless it does already. */
export async function ensureAnchor(docker: Docker, options: AnchorOptions): Promise<void> {
  const name = anchorName(options.platformName);
  const existing = (await docker
    .getContainer(name)
    .inspect()
    .catch(() => undefined)) as { State: { Running: boolean } } | undefined;
  if (existing?.State.Running) return;
  if (existing) await docker.getContainer(name).remove({ force: true });
  const container = await docker.createContainer({
    name,
    Image: options.image,
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    Labels: { [PLATFORM_LABEL]: options.platformName },
    HostConfig: {
      Init: true,
      NetworkMode: options.networkName,
      RestartPolicy: { Name: 'unless-stopped' },
      Memory: 16 * 1024 * 1024,
      PidsLimit: 4,
      CapDrop: ['ALL'],
      ReadonlyRootfs: true,
    },
  });
  await container.start();
}

export async function removeAnchor(docker: Docker, platformName: string): Promise<void> {
  await docker
    .getContainer(anchorName(platformName))
    .remove({ force: true })
    .catch(() => undefined);
}
