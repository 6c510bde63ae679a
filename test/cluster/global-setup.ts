/**
 * The `cluster` test project's global setup: the 3-node Swarm is brought up before its files run and removed after,
 * leaving nothing on the host (see scripts/cluster.sh).
 * @module
 */
import { clusterDown, clusterUp } from './cluster.ts';

export async function setup(): Promise<void> {
  const ms = await clusterUp();
  console.log(`test cluster up in ${(ms / 1000).toFixed(1)} s`);
}

export async function teardown(): Promise<void> {
  if (process.env.DEIS_TEST_CLUSTER_KEEP === '1') return;
  await clusterDown();
}
