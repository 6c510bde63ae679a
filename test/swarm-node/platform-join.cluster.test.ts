/**
 * `./platform join-token` on a manager prints the command, and that command run on another machine makes its engine a
 * worker of the swarm, with the rule that keeps containers off link-local addresses; run again it changes nothing,
 * and against another swarm it refuses. On two engines of this file's own (mini-swarm.ts), not the shared test
 * cluster, whose nodes must not change. Nothing here sends a packet to a link-local address: the rule is read back.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { miniSwarmUp } from './mini-swarm.ts';
import type { MiniSwarm } from './mini-swarm.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const RULE = '-A DOCKER-USER -d 169.254.0.0/16 -m comment --comment "deis node: no link-local" -j DROP';

describe('./platform join-token and ./platform join', () => {
  let swarm: MiniSwarm;
  // The systemd unit is for real machines: this host's own systemd (if any) must not get one.
  const engineEnv = (socket: string) => ({ DOCKER_HOST: `unix://${socket}`, DOCKER_API_VERSION: '1.41', DEIS_NODE_SYSTEMD: '0', PATH: process.env.PATH ?? '' });

  beforeAll(async () => {
    swarm = await miniSwarmUp(randomBytes(3).toString('hex'));
  });
  afterAll(async () => swarm?.down());

  const rules = async (ns: string) => (await swarm.exec(ns, ['iptables', '-w', '-S', 'DOCKER-USER'])).stdout.trim().split('\n');

  it('prints the join command on the manager, which makes the other machine a worker with the link-local rule', async () => {
    const printed = await swarm.exec(swarm.managerNs, [`${REPO_ROOT}/platform`, 'join-token'], engineEnv(swarm.managerSocket));
    expect(printed.code, printed.stderr).toBe(0);
    const match = /^\.\/platform join (100\.125\.19\.1:2377) (SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25})\n$/.exec(printed.stdout);
    expect(match, printed.stdout).not.toBeNull();
    // The manager's containers are kept off link-local addresses too.
    expect(await rules(swarm.managerNs)).toContain(RULE);

    const joined = await swarm.exec(swarm.workerNs, [`${REPO_ROOT}/platform`, 'join', match![1]!, match![2]!], engineEnv(swarm.workerSocket));
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stderr).toContain('Joining this machine\'s engine to the swarm managed at 100.125.19.1:2377');
    const nodes = await swarm.exec(swarm.managerNs, ['docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'], engineEnv(swarm.managerSocket));
    expect(nodes.stdout.trim().split('\n').map((line) => line.trimEnd()).sort()).toEqual([`swp-${swarm.id}-m Ready Leader`, `swp-${swarm.id}-w Ready`]);
    // First in the chain, before the engine's RETURN, so nothing a container sends there is let through first.
    const workerRules = await rules(swarm.workerNs);
    expect(workerRules[1]).toBe(RULE);

    // Again: nothing changes, the rule is not doubled.
    const again = await swarm.exec(swarm.workerNs, [`${REPO_ROOT}/platform`, 'join', match![1]!, match![2]!], engineEnv(swarm.workerSocket));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('already a node of the swarm managed at 100.125.19.1:2377');
    expect((await rules(swarm.workerNs)).filter((rule) => rule === RULE)).toHaveLength(1);

    // A machine in a swarm is not moved to another one.
    const other = await swarm.exec(swarm.workerNs, [`${REPO_ROOT}/platform`, 'join', '100.125.19.9', match![2]!], engineEnv(swarm.workerSocket));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('already in another swarm');
  });

  it('refuses to print a join command on an engine that manages no swarm', async () => {
    // The worker's engine is in a swarm but is no manager of it.
    const refused = await swarm.exec(swarm.workerNs, [`${REPO_ROOT}/platform`, 'join-token'], engineEnv(swarm.workerSocket));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a manager of a swarm');
  });
});
