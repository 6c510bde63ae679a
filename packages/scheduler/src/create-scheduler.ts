/**
 * The one place that turns the platform's settings into a scheduler backend, so the daemon names a kind, not a class.
 * @module
 */
import Docker from 'dockerode';
import { DockerScheduler } from './docker/docker-scheduler.ts';
import { FakeScheduler } from './fake/fake-scheduler.ts';
import type { Scheduler } from './scheduler.ts';
import { ensureStackImages } from './stack-images.ts';

export interface CreateSchedulerOptions {
  kind: 'docker' | 'fake';
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
}

export async function createScheduler(options: CreateSchedulerOptions): Promise<Scheduler> {
  if (options.kind === 'fake') return new FakeScheduler();
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
  });
  if (options.stackImages ?? true) await ensureStackImages(docker);
  return scheduler;
}
