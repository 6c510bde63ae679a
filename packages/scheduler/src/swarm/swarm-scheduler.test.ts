import { describe, expect, it } from 'vitest';
import { createScheduler, engineClient } from '../create-scheduler.ts';
import { SchedulerUnavailableError } from '../scheduler.ts';
import { SwarmScheduler, taskState } from './swarm-scheduler.ts';

const base = { platformName: 'p', networkName: 'n', networkSubnet: '100.125.0.0/24', containerKey: 'k'.repeat(32), stackImages: false };

describe('the swarm backend, chosen by kind: swarm', () => {
  it('needs the engines of the nodes', async () => {
    await expect(createScheduler({ ...base, kind: 'swarm' })).rejects.toThrow(/engines/);
  });

  it('says the swarm is unavailable when a node does not answer', async () => {
    const made = createScheduler({ ...base, kind: 'swarm', swarmEngines: ['/nonexistent/node1.sock'] });
    await expect(made).rejects.toBeInstanceOf(SchedulerUnavailableError);
  });

  it('keeps the network inside 100.64.0.0/10', () => {
    expect(() => new SwarmScheduler({ ...base, nodes: [engineClient('/nonexistent.sock')], networkSubnet: '10.0.0.0/24' })).toThrow(/100\.64\.0\.0\/10/);
  });

  it('reads an engine as a unix socket path or a tcp URL', () => {
    const modem = (endpoint: string) => engineClient(endpoint).modem as unknown as { socketPath?: string; host?: string; port?: number };
    expect(modem('unix:///run/deis-cluster/node1.sock').socketPath).toBe('/run/deis-cluster/node1.sock');
    expect(modem('/run/x.sock').socketPath).toBe('/run/x.sock');
    const tcp = modem('tcp://100.124.0.11:2375');
    expect([tcp.host, tcp.port]).toEqual(['100.124.0.11', 2375]);
  });
});

describe('a task\'s state as a container\'s', () => {
  it('maps Swarm\'s task states', () => {
    const task = (state: string, exitCode?: number) => ({ ID: 't', ServiceID: 's', Status: { State: state, ContainerStatus: { ExitCode: exitCode ?? 0 } } });
    for (const state of ['new', 'pending', 'assigned', 'accepted', 'preparing', 'starting']) expect(taskState(task(state)), state).toBe('starting');
    expect(taskState(task('running'))).toBe('up');
    expect(taskState(task('complete'))).toBe('down');
    expect(taskState(task('failed', 3))).toBe('crashed');
    // Swarm could not make or run its container (a missing image on the node, say).
    expect(taskState(task('rejected'))).toBe('crashed');
    expect(taskState(task('shutdown'))).toBe('down');
    expect(taskState(task('shutdown', 137))).toBe('crashed');
    expect(taskState(undefined)).toBe('starting');
  });
});
