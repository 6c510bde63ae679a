import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { DockerScheduler } from '../docker/docker-scheduler.ts';
import type { ContainerEvent } from '../scheduler.ts';
import { TaskStarts, taskIdOf } from './task-starts.ts';

/** Engines whose container events the test sends by hand. */
function fakeEngines(count: number) {
  const listeners: Array<(event: ContainerEvent) => void> = [];
  const stopped: number[] = [];
  const engines = Array.from({ length: count }, (_, index) => ({
    watch(_labels: Record<string, string>, listener: (event: ContainerEvent) => void) {
      listeners[index] = listener;
      return () => stopped.push(index);
    },
  })) as unknown as DockerScheduler[];
  const nodes = Array.from({ length: count }, (_, index) => ({ node: index })) as unknown as Docker[];
  const send = (node: number, name: string, state: ContainerEvent['state']) => listeners[node]!({ name, labels: {}, state });
  return { engines, nodes, send, stopped, listeners };
}

describe('task starts seen on the nodes', () => {
  it('reads the task ID from a task container name only', () => {
    expect(taskIdOf('myapp-web-1234-abcde.1.q23sw3qcf33s7b26qig4x9t0m')).toBe('q23sw3qcf33s7b26qig4x9t0m');
    expect(taskIdOf('/myapp-web-1234-abcde.1.q23sw3qcf33s7b26qig4x9t0m')).toBe('q23sw3qcf33s7b26qig4x9t0m');
    expect(taskIdOf('deis-probe')).toBeUndefined();
    expect(taskIdOf('a.b.c')).toBeUndefined();
  });

  it('holds a started task until its container stops or the manager speaks, on the node that started it', () => {
    const { engines, nodes, send } = fakeEngines(3);
    const starts = new TaskStarts();
    starts.follow(engines, nodes);
    send(2, 'app-web-1-x.1.task1', 'up');
    expect(starts.get('task1')).toEqual({ docker: nodes[2], name: 'app-web-1-x.1.task1' });
    send(2, 'app-web-1-x.1.task1', 'crashed');
    expect(starts.get('task1')).toBeUndefined();
    send(1, 'app-web-2-y.1.task2', 'up');
    starts.forget('task2');
    expect(starts.get('task2')).toBeUndefined();
    send(0, 'deis-anchor', 'up');
    expect(starts.get('deis-anchor')).toBeUndefined();
  });

  it('wakes a waiter at the next event, or when its time is up; follows once; stops following on close', async () => {
    const { engines, nodes, send, stopped } = fakeEngines(2);
    const starts = new TaskStarts();
    starts.follow(engines, nodes);
    starts.follow(engines, nodes);
    const began = Date.now();
    const waited = starts.next(10_000);
    send(0, 'app-web-1-x.1.task3', 'up');
    await waited;
    expect(Date.now() - began).toBeLessThan(5_000);
    await starts.next(20);
    starts.close();
    expect(stopped).toEqual([0, 1]);
    expect(starts.get('task3')).toBeUndefined();
  });
});
