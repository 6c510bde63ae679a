/**
 * The test driver of the 3-node Swarm on this host (scripts/cluster.sh, docs/cluster-testing.md): brings it up and
 * down for the `cluster` test project, and hands tests a client of each node's engine.
 * @module
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'cluster.sh');

/** Where node N's engine listens (the script's CLUSTER_RUN). */
export const CLUSTER_SOCKETS = [1, 2, 3].map((n) => `/run/deis-cluster/node${n}.sock`);

async function cluster(command: string): Promise<string> {
  const { stderr } = await promisify(execFile)('bash', ['-c', `. "${script}" && ${command}`], { maxBuffer: 16 * 1024 * 1024 });
  return stderr;
}

/** Brings the cluster up (or completes it); resolves with how long that took, in milliseconds. */
export async function clusterUp(): Promise<number> {
  const began = Date.now();
  await cluster('cluster_up');
  return Date.now() - began;
}

/** Stops and removes everything the cluster made. */
export async function clusterDown(): Promise<void> {
  await cluster('cluster_down');
}

/** A client of each node's engine, the manager's first; the engines are 20.10, so the API version is pinned. */
export function clusterEngines(sockets: string[] = CLUSTER_SOCKETS): Docker[] {
  return sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
}

/** Node `n` (1 to 3) dies as a machine would: its engine and every process in its namespace are killed. */
export async function clusterKillNode(n: number): Promise<void> {
  await cluster(`cluster_kill_node ${n}`);
}
