/**
 * What the contract does not pin down and `deis run` needs on a swarm: a one-off task's output arrives while it runs,
 * from whichever node Swarm placed it on.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwarmScheduler } from './swarm-scheduler.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

describe('one-off runs on the swarm', () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-run-${id}`;
  let scheduler: SwarmScheduler;

  beforeAll(async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.252.0/24', containerKey: randomBytes(16).toString('hex') });
  });

  afterAll(async () => {
    await scheduler.close();
    await nodes[0]!.getNetwork(platformName).remove().catch(() => undefined);
  });

  it('streams the output as the task prints it', async () => {
    const arrivals: Array<{ text: string; at: number }> = [];
    const result = await scheduler.run(
      { name: `run-${id}`, image: 'deis/base:busybox', command: ['sh', '-c', 'echo first; sleep 3; echo second; exit 4'], env: {}, labels: { run: id } },
      { timeoutMs: 60_000, onOutput: (text) => arrivals.push({ text, at: Date.now() }) },
    );
    expect(result).toEqual({ exitCode: 4, output: 'first\nsecond\n' });
    const first = arrivals.find((a) => a.text.includes('first'));
    const second = arrivals.find((a) => a.text.includes('second'));
    // Seen while the task still slept, not gathered at its end.
    expect(first && second && second.at - first.at).toBeGreaterThan(2_000);
    expect(await scheduler.list({ run: id })).toEqual([]);
  });
});
