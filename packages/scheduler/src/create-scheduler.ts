/**
 * The one place that turns the platform's settings into a scheduler backend, so the daemon names a kind, not a class.
 * @module
 */
import Docker from 'dockerode';
import { DockerScheduler } from './docker/docker-scheduler.ts';
import { FakeScheduler } from './fake/fake-scheduler.ts';
import type { PlatformRegistry } from './registry/platform-registry.ts';
import type { Scheduler } from './scheduler.ts';
import { ensureStackImages } from './stack-images.ts';
import { SwarmScheduler } from './swarm/swarm-scheduler.ts';

export interface CreateSchedulerOptions {
  kind: 'docker' | 'fake' | 'swarm';
  /** Marks the platform's containers (label io.deis.platform); containers of other names are left alone. */
  platformName: string;
  /** The Docker network app containers join; created if missing. */
  networkName: string;
  /** Its subnet, inside 100.64.0.0/10. */
  networkSubnet: string;
  /** docker: the platform's secret that marks the containers the scheduler made (it trusts no others). */
  containerKey: string;
  /** docker: the memory limit of containers whose spec sets none. */
  defaultMemoryBytes?: number;
  /** docker: the most processes one container may have. */
  pidsLimit?: number;
  /** docker: install the firewall rule that keeps containers off link-local addresses; default true. */
  blockLinkLocal?: boolean;
  /** docker: also make the stack images (deis/base:busybox, deis/node:20) the builds start FROM; default true. */
  stackImages?: boolean;
  /** docker: the engine; default the local socket. */
  docker?: Docker;
  /**
   * swarm: every node's engine, the manager's first, each a unix socket path or a `tcp://host:port` URL (ADR 0018);
   * the network (an attachable overlay) and the stack images are made on the manager.
   */
  swarmEngines?: string[];
  /** The platform's registry (ADR 0019): its images are pulled with its login (swarm: by each node) and deleted from it when removed. */
  registry?: PlatformRegistry;
  /** swarm: other registries nodes may pull from, with an app's `deis registry` login. */
  pullRegistries?: string[];
  /** docker, fake: the labels of the one node (DEIS_NODE_LABELS); a swarm's nodes carry their own. */
  nodeLabels?: Record<string, string>;
}

/** A client of one engine named by a unix socket path or a `tcp://host:port` URL. */
export function engineClient(endpoint: string): Docker {
  if (endpoint.startsWith('tcp://')) {
    const url = new URL(endpoint);
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  }
  return new Docker({ socketPath: endpoint.replace(/^unix:\/\//, '') });
}

export async function createScheduler(options: CreateSchedulerOptions): Promise<Scheduler> {
  if (options.kind === 'fake') return new FakeScheduler({ ...(options.nodeLabels ? { nodeLabels: options.nodeLabels } : {}) });
  if (options.kind === 'swarm') return createSwarmScheduler(options);
  const docker = options.docker ?? new Docker();
  const scheduler = await DockerScheduler.create({
    docker,
    platformName: options.platformName,
    networkName: options.networkName,
    networkSubnet: options.networkSubnet,
    containerKey: options.containerKey,
    ...(options.defaultMemoryBytes !== undefined ? { defaultMemoryBytes: options.defaultMemoryBytes } : {}),
    ...(options.pidsLimit !== undefined ? { pidsLimit: options.pidsLimit } : {}),
    ...(options.blockLinkLocal !== undefined ? { blockLinkLocal: options.blockLinkLocal } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.nodeLabels ? { nodeLabels: options.nodeLabels } : {}),
  });
  if (options.stackImages ?? true) await ensureStackImages(docker);
  return scheduler;
}

async function createSwarmScheduler(options: CreateSchedulerOptions): Promise<Scheduler> {
  const nodes = (options.swarmEngines ?? []).map(engineClient);
  if (nodes.length === 0) throw new Error('the swarm scheduler needs the engines of the swarm\'s nodes, the manager\'s first');
  // The stack images are made on the manager; the scheduler copies images to the nodes that lack them.
  if (options.stackImages ?? true) await ensureStackImages(nodes[0]!);
  return SwarmScheduler.create({
    nodes,
    platformName: options.platformName,
    networkName: options.networkName,
    networkSubnet: options.networkSubnet,
    containerKey: options.containerKey,
    ...(options.defaultMemoryBytes !== undefined ? { defaultMemoryBytes: options.defaultMemoryBytes } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.pullRegistries ? { pullRegistries: options.pullRegistries } : {}),
  });
}
