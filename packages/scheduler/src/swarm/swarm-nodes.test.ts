import { describe, expect, it } from 'vitest';
import { placementConstraints, toClusterNodes } from './swarm-nodes.ts';
import type { SwarmNodeInfo } from './swarm-nodes.ts';
import type { Task } from './swarm-scheduler.ts';

describe('placementConstraints', () => {
  it('makes one node label constraint per tag, in key order', () => {
    expect(placementConstraints({ zone: 'a', disk: 'ssd' })).toEqual(['node.labels.disk==ssd', 'node.labels.zone==a']);
    expect(placementConstraints(undefined)).toEqual([]);
    expect(placementConstraints({})).toEqual([]);
  });

  it.each<Record<string, string>>([{ 'a==b': 'c' }, { a: 'b!=c' }, { ' a': 'b' }, { a: 'b ' }, { '': 'b' }])('refuses a label that would change what the constraint says: %o', (label) => {
    expect(() => placementConstraints(label)).toThrow(/cannot be a placement constraint/);
  });
});

describe('toClusterNodes', () => {
  const nodes: SwarmNodeInfo[] = [
    { ID: 'w2', Spec: { Role: 'worker', Availability: 'drain', Labels: { disk: 'ssd' } }, Description: { Hostname: 'node3' }, Status: { State: 'down', Addr: '10.0.0.13' } },
    { ID: 'w1', Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'node2' }, Status: { State: 'ready', Addr: '10.0.0.12' } },
    { ID: 'm1', Spec: { Role: 'manager', Availability: 'pause', Labels: {} }, Description: { Hostname: 'node1' }, Status: { State: 'ready', Addr: '0.0.0.0' }, ManagerStatus: { Addr: '10.0.0.11:2377' } },
  ];
  const task = (node: string, state: string): Task => ({ ID: `${node}-${state}-${Math.random()}`, ServiceID: 's', NodeID: node, Status: { State: state } });

  it('lists managers first then by hostname, with their state, role, labels and running containers', () => {
    const tasks = [task('w1', 'running'), task('w1', 'running'), task('w1', 'shutdown'), task('m1', 'running'), task('w2', 'complete')];
    expect(toClusterNodes(nodes, tasks)).toEqual([
      { id: 'm1', hostname: 'node1', address: '10.0.0.11', state: 'ready', availability: 'pause', role: 'manager', labels: {}, containers: 1 },
      { id: 'w1', hostname: 'node2', address: '10.0.0.12', state: 'ready', availability: 'active', role: 'worker', labels: {}, containers: 2 },
      { id: 'w2', hostname: 'node3', address: '10.0.0.13', state: 'down', availability: 'drain', role: 'worker', labels: { disk: 'ssd' }, containers: 0 },
    ]);
  });

  it('takes a manager\'s address from its manager status when its status has none (or 0.0.0.0), and reports unknown states as down', () => {
    const [manager] = toClusterNodes([{ ID: 'm', Spec: { Role: 'manager' }, Status: { State: 'unknown' }, ManagerStatus: { Addr: '10.0.0.11:2377' } }], []);
    expect(manager).toMatchObject({ address: '10.0.0.11', state: 'down', availability: 'active', hostname: '' });
  });
});
