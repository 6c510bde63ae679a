/**
 * A node of the test cluster dies (its engine and every process of it killed at once): the swarm backend reports its
 * containers crashed, in `list`, to watchers and to `waitReady`, while the other nodes' containers stay up; a restart
 * runs one again on a node that is left. The node comes back afterwards for the other test files.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { NotReadyError } from '@deis/scheduler/scheduler';
import type { ContainerEvent } from '@deis/scheduler/scheduler';
import { SwarmScheduler } from '@deis/scheduler/swarm/swarm-scheduler';
import { clusterEngines, clusterKillNode, clusterUp } from './cluster.ts';

const nodes = clusterEngines((process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean));
const manager = nodes[0]!;

describe('losing a node of the swarm', () => {
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-loss-${id}`;
  const labels = { 'loss-run': id };
  let scheduler: SwarmScheduler;

  beforeAll(async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.251.0/24', containerKey: randomBytes(16).toString('hex') });
  });

  afterAll(async () => {
    // The node comes back (same data root: it rejoins as the same node) before anything is removed.
    await clusterUp();
    for (const container of await scheduler.list(labels).catch(() => [])) await scheduler.stop(container.name, 0).catch(() => undefined);
    await scheduler.close();
    for (let attempt = 0; attempt < 50; attempt++) {
      const gone = await manager.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('reports the dead node\'s containers crashed, keeps the others up, and restarts one on a node left', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `loss-${id}-${i + 1}`);
    for (const name of names) {
      await scheduler.start({
        name,
        image: 'deis/node:20',
        command: ['node', '-e', "require('http').createServer((q, r) => r.end('ok')).listen(5000)"],
        env: {},
        labels: { ...labels, n: name },
        port: 5000,
      });
    }
    for (const name of names) await scheduler.waitReady(name, { kind: 'http', port: 5000, path: '/' }, 30_000);
    // Where Swarm placed each: spread over the three nodes.
    const node3 = ((await nodes[2]!.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    const tasks = (await manager.listTasks({ filters: { label: [`loss-run=${id}`] } })) as Array<{ NodeID: string; ServiceID: string }>;
    const services = (await manager.listServices({ filters: { label: [`loss-run=${id}`] } })) as Array<{ ID: string; Spec: { Name: string } }>;
    const onNode3 = new Set(tasks.filter((t) => t.NodeID === node3).map((t) => services.find((s) => s.ID === t.ServiceID)?.Spec.Name));
    expect(onNode3.size).toBeGreaterThan(0);
    expect(onNode3.size).toBeLessThan(names.length);

    const seen: ContainerEvent[] = [];
    const stopWatching = scheduler.watch(labels, (event) => seen.push(event));
    try {
      const killed = Date.now();
      await clusterKillNode(3);
      const listed = await eventually(
        () => scheduler.list(labels),
        (all) => all.filter((c) => c.state === 'crashed').length === onNode3.size,
        60_000,
      );
      console.log(`a dead node's containers were reported crashed ${((Date.now() - killed) / 1000).toFixed(1)} s after it died`);
      for (const container of listed) {
        expect(container.state, container.name).toBe(onNode3.has(container.name) ? 'crashed' : 'up');
        if (onNode3.has(container.name)) expect(container.address).toBeNull();
      }
      await eventually(() => seen, (events) => [...onNode3].every((name) => events.some((e) => e.name === name && e.state === 'crashed')));
      const lostOne = [...onNode3][0]!;
      const error = await scheduler.waitReady(lostOne, { kind: 'tcp', port: 5000 }, 5_000).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(NotReadyError);
      expect((error as NotReadyError).timedOut).toBe(false);
      // The others still answer.
      for (const name of names.filter((n) => !onNode3.has(n))) await scheduler.waitReady(name, { kind: 'http', port: 5000, path: '/' }, 10_000);
      // Restarted in place, a lost container runs again on a node that is left, under its name.
      const again = await scheduler.restart(lostOne);
      expect(again.name).toBe(lostOne);
      await scheduler.waitReady(lostOne, { kind: 'http', port: 5000, path: '/' }, 30_000);
      expect((await scheduler.list({ ...labels, n: lostOne }))[0]?.state).toBe('up');
    } finally {
      stopWatching();
    }
  });
});
