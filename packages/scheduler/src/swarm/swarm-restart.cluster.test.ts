/**
 * What the contract does not pin down about `restart` on a swarm, where each restart is a new task of the service: the
 * container's log spans its runs (each run's task may sit on another node), in order, for `logs` and `followLogs`
 * alike, and what `list` reports is the newest run.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../scheduler-contract.ts';
import type { FollowedLogLine } from '../scheduler.ts';
import { SwarmScheduler } from './swarm-scheduler.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

describe('restarts on the swarm', () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-restart-${id}`;
  let scheduler: SwarmScheduler;

  beforeAll(async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.250.0/24', containerKey: randomBytes(16).toString('hex') });
  });

  afterAll(async () => {
    for (const container of await scheduler.list({ run: id }).catch(() => [])) await scheduler.stop(container.name, 0).catch(() => undefined);
    await scheduler.close();
    // The overlay network goes once the nodes have removed the services' containers.
    for (let attempt = 0; attempt < 50; attempt++) {
      const gone = await nodes[0]!.getNetwork(platformName).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('keeps every run\'s output in one log, in order, followed and resumed across the runs', async () => {
    const name = `restarted-${id}`;
    // Each run prints an ID of its own, so the runs' lines tell themselves apart.
    await scheduler.start({ name, image: 'deis/base:busybox', command: ['sh', '-c', 'echo "run $(cat /proc/sys/kernel/random/uuid)"; echo bye; exit 2'], env: {}, labels: { run: id } });
    const runs: Date[] = [];
    for (let restarts = 0; restarts < 3; restarts++) {
      const ended = await eventually(
        () => scheduler.list({ run: id }),
        (list) => list[0]?.state === 'crashed' && (runs.length === 0 || list[0].startedAt!.getTime() > runs.at(-1)!.getTime()),
      );
      runs.push(ended[0]!.startedAt!);
      expect(ended[0]!.exitCode).toBe(2);
      if (restarts < 2) expect((await scheduler.restart(name)).name).toBe(name);
    }

    const follow = (after?: string) =>
      new Promise<FollowedLogLine[]>((resolve) => {
        const lines: FollowedLogLine[] = [];
        scheduler.followLogs(name, { ...(after === undefined ? {} : { after }), onLine: (line) => lines.push(line), onEnd: () => resolve(lines) });
      });
    const all = await follow();
    expect(all.map((line) => line.text.replace(/^run [0-9a-f-]{36}$/, 'run'))).toEqual(['run', 'bye', 'run', 'bye', 'run', 'bye']);
    expect(new Set(all.filter((line) => line.text.startsWith('run ')).map((line) => line.text)).size).toBe(3);
    expect(all.every((line, i) => i === 0 || all[i - 1]!.cursor < line.cursor)).toBe(true);
    expect(await follow(all[2]!.cursor)).toEqual(all.slice(3));
    expect((await scheduler.logs(name, 100)).map((line) => line.text)).toEqual(all.map((line) => line.text));
  });

  it('tells a watcher of no removal while Swarm prunes a container\'s old runs, only when the container goes', async () => {
    const name = `pruned-${id}`;
    const labels = { run: id, case: 'pruned' };
    const events: string[] = [];
    const stopWatching = scheduler.watch(labels, (event) => events.push(`${event.name} ${event.state}`));
    try {
      await scheduler.start({ name, image: 'deis/base:busybox', command: ['sh', '-c', 'exit 1'], env: {}, labels });
      let startedAt = 0;
      // The swarm keeps 5 tasks of a slot by default: 7 runs make it prune the oldest ones' containers.
      for (let runs = 1; runs <= 7; runs++) {
        const [crashed] = await eventually(
          () => scheduler.list(labels),
          (list) => list[0]?.state === 'crashed' && list[0].startedAt!.getTime() > startedAt,
        );
        startedAt = crashed!.startedAt!.getTime();
        if (runs < 7) await scheduler.restart(name);
      }
      await eventually(
        () => nodes.reduce(async (sum, docker) => (await sum) + (await docker.listContainers({ all: true, filters: { name: [name] } })).length, Promise.resolve(0)),
        (count) => count <= 5,
      );
      await eventually(() => events.filter((e) => e === `${name} crashed`).length, (count) => count === 7);
      expect(events).not.toContain(`${name} removed`);
      await scheduler.stop(name, 0);
      await eventually(() => events, (all) => all.includes(`${name} removed`));
    } finally {
      stopWatching();
    }
  });
});
