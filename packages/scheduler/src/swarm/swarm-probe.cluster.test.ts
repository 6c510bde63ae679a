/**
 * The swarm backend's TCP and HTTP checks go through one long-lived prober in the probe container (swarm-probe.ts):
 * many at once get each its own answer, a check nothing answers ends within its time, a check costs no process start,
 * and the prober comes back when its container is removed under it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '../scheduler.ts';
import { SwarmScheduler } from './swarm-scheduler.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

describe('probes on the swarm', () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-probe-${id}`;
  const labels = { run: id };
  let scheduler: SwarmScheduler;
  let server: Container;

  beforeAll(async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.249.0/24', containerKey: randomBytes(16).toString('hex') });
    const name = `probed-${id}`;
    await scheduler.start({
      name,
      image: 'deis/node:20',
      command: ['node', '-e', "require('http').createServer((q, r) => { r.statusCode = q.url === '/ok' ? 200 : 503; r.end(); }).listen(5000)"],
      env: {},
      labels,
      port: 5000,
    });
    await scheduler.waitReady(name, { kind: 'http', port: 5000, path: '/ok' }, 30_000);
    server = (await scheduler.list(labels))[0]!;
  });

  afterAll(async () => {
    for (const container of await scheduler.list(labels).catch(() => [])) await scheduler.stop(container.name, 0).catch(() => undefined);
    await scheduler.close();
    for (let attempt = 0; attempt < 50; attempt++) {
      const gone = await nodes[0]!.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('answers many checks at once, each its own, quickly, and a check nothing answers within its time', async () => {
    const host = server.address!.host;
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        scheduler.probe(server.name, i % 3 === 0 ? { kind: 'tcp', port: 5000 } : { kind: 'http', port: 5000, path: i % 3 === 1 ? '/ok' : '/down' }, { timeoutMs: 5_000, host }),
      ),
    );
    answers.forEach((answer, i) => (i % 3 === 2 ? expect(answer, String(i)).toMatch(/answered 503/) : expect(answer, String(i)).toBeNull()));
    // A process started per check takes about 100 ms each on this machine; sixty of them would take seconds.
    expect(Date.now() - started).toBeLessThan(3_000);

    expect(await scheduler.probe(server.name, { kind: 'tcp', port: 5001 }, { timeoutMs: 2_000, host })).toMatch(/ECONNREFUSED/);
    // An address of the network that no task has: nothing answers, so only the time limit ends the check.
    const silent = Date.now();
    expect(await scheduler.probe(server.name, { kind: 'tcp', port: 5000 }, { timeoutMs: 1_000, host: '100.125.249.250' })).toMatch(/timed out|EHOSTUNREACH/);
    expect(Date.now() - silent).toBeLessThan(4_000);
  });

  it('starts the prober again when its container was removed under it', async () => {
    await nodes[0]!.getContainer(`${platformName}-probe`).remove({ force: true });
    const answer = await scheduler.probe(server.name, { kind: 'http', port: 5000, path: '/ok' }, { timeoutMs: 5_000 });
    // The check in flight when the prober went may fail; the next one has a new prober.
    const again = answer === null ? null : await scheduler.probe(server.name, { kind: 'http', port: 5000, path: '/ok' }, { timeoutMs: 5_000 });
    expect(again).toBeNull();
  });
});
