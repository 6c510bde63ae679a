/**
 * An idle task on every node, attached to the platform's overlay network. Swarm takes a node's part of an overlay
 * down when the last container there leaves it, and builds it again for the next one: on the test cluster a task
 * landing on such a node took about 0.5 s longer to start than on a node where the network was up. Swarm spreads a
 * deploy's new task to the node with the fewest tasks, which is often one with none, so without an anchor many deploys
 * would pay that. The anchors are one global service (a task on each node, new nodes included); every node has one, so
 * they do not tilt Swarm's spreading. Not plain containers attached to the network: removing one of those right after
 * its start could leave the manager holding its network attachment, and with it the network.
 * @module
 */
import type Docker from 'dockerode';
import { PLATFORM_LABEL, statusOf } from '../docker/docker-scheduler.ts';

/** On the anchors' tasks instead of the platform's label, so that no listing of the platform's tasks takes them for its own. */
export const ANCHOR_LABEL = 'io.deis.anchor';

export interface AnchorOptions {
  platformName: string;
  networkName: string;
  /** An image every node has, with `sleep`. */
  image: string;
}

export function anchorServiceName(platformName: string): string {
  return `${platformName}-anchor`;
}

/** Makes the anchors' service, unless it exists. */
export async function ensureAnchors(manager: Docker, options: AnchorOptions): Promise<void> {
  const name = anchorServiceName(options.platformName);
  try {
    await manager.getService(name).inspect();
    return;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  try {
    await manager.createService({
      Name: name,
      Labels: { [PLATFORM_LABEL]: options.platformName },
      TaskTemplate: {
        ContainerSpec: {
          Image: options.image,
          Command: ['sleep'],
          Args: ['infinity'],
          Labels: { [ANCHOR_LABEL]: options.platformName },
          Init: true,
          ReadOnly: true,
          CapabilityDrop: ['ALL'],
        },
        Resources: { Limits: { MemoryBytes: 16 * 1024 * 1024, Pids: 4 } },
        RestartPolicy: { Condition: 'any', Delay: 10_000_000_000 },
        Networks: [{ Target: options.networkName }],
      },
      // No virtual IP to allocate: nothing is ever sent to it.
      EndpointSpec: { Mode: 'dnsrr' },
      Mode: { Global: {} },
    } as never);
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
  }
}

/**
 * Removes the anchors' service, and its tasks' containers on the nodes at once (the nodes' agents take seconds, and
 * the network cannot go before them).
 */
export async function removeAnchors(manager: Docker, nodes: Docker[], platformName: string): Promise<void> {
  await manager
    .getService(anchorServiceName(platformName))
    .remove()
    .catch(() => undefined);
  await Promise.all(
    nodes.map(async (docker) => {
      const containers = await docker.listContainers({ all: true, filters: { label: [`${ANCHOR_LABEL}=${platformName}`] } }).catch(() => []);
      await Promise.all(containers.map((container) => docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined)));
    }),
  );
}
