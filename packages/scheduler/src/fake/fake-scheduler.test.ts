import { describe, expect, it } from 'vitest';
import { NotReadyError, SchedulerUnavailableError } from '../scheduler.ts';
import type { ContainerEvent, ContainerSpec } from '../scheduler.ts';
import { FakeScheduler } from './fake-scheduler.ts';

const web = (name: string, image = 'app:1'): ContainerSpec => ({ name, image, env: { PORT: '5000' }, labels: { app: 'demo', type: 'web' }, port: 5000 });

describe('FakeScheduler test controls', () => {
  it('fails the next calls of an operation on purpose, then recovers', async () => {
    const fake = new FakeScheduler();
    fake.failNext('start', 2);
    await expect(fake.start(web('a'))).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(fake.start(web('a'))).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(fake.start(web('a'))).resolves.toMatchObject({ state: 'up' });
    fake.failNext('list');
    await expect(fake.list({})).rejects.toBeInstanceOf(SchedulerUnavailableError);
    expect(await fake.list({ app: 'demo' })).toHaveLength(1);
  });

  it('crashes the containers of a crashing image at start, with a last line to show', async () => {
    const fake = new FakeScheduler();
    fake.crashImage('broken:1');
    const events: ContainerEvent['state'][] = [];
    fake.watch({ app: 'demo' }, (event) => events.push(event.state));
    const started = await fake.start(web('b', 'broken:1'));
    expect(started).toMatchObject({ state: 'crashed', exitCode: 1, address: null });
    expect(events).toEqual(['up', 'crashed']);
    const error = await fake.waitReady('b', { kind: 'tcp', port: 5000 }, 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotReadyError);
    expect((error as NotReadyError).lastLines).toEqual(['Error: app crashed at start']);
  });

  it('lets a test make a running container print and crash', async () => {
    const fake = new FakeScheduler();
    await fake.start(web('c'));
    fake.print('c', 'listening');
    expect((await fake.logs('c', 10)).map((l) => l.text)).toEqual(['listening']);
    fake.crash('c', 137);
    expect(await fake.list({ type: 'web' })).toMatchObject([{ name: 'c', state: 'crashed', exitCode: 137, address: null }]);
    expect(fake.specs().map((s) => s.name)).toEqual(['c']);
  });

  it('gives distinct addresses, declared image ports, and a scripted one-off run', async () => {
    const fake = new FakeScheduler();
    const one = await fake.start(web('d1'));
    const two = await fake.start(web('d2'));
    expect(one.address?.host).not.toBe(two.address?.host);
    fake.defineImage('app:2', [8080, 3000]);
    expect(await fake.imagePorts('app:2')).toEqual([3000, 8080]);
    expect(await fake.imagePorts('undeclared:1')).toEqual([]);
    expect(await fake.run({ ...web('run-1'), command: ['echo', 'hi'] }, { timeoutMs: 1_000 })).toEqual({ exitCode: 0, output: 'echo hi\n' });
    fake.runHandler = () => new Promise(() => undefined);
    await expect(fake.run(web('run-2'), { timeoutMs: 50 })).rejects.toThrow(/did not finish/);
  });
});
