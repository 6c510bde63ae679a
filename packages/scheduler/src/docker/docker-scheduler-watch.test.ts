/**
 * The engine-event side of DockerScheduler.watch on a stand-in engine: event lines split anywhere, labels, the
 * reconnect after the stream breaks (asking only for events after the last one seen), and stopping.
 * @module
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { eventually } from '../scheduler-contract.ts';
import type { ContainerEvent } from '../scheduler.ts';
import { DockerScheduler } from './docker-scheduler.ts';

interface EventsCall {
  since: number;
  filters: { label: string[]; event: string[]; type: string[] };
}

function standInEngine() {
  const calls: EventsCall[] = [];
  const streams: PassThrough[] = [];
  let failures = 0;
  const docker = {
    getEvents: async (options: EventsCall) => {
      calls.push(options);
      if (failures > 0) {
        failures -= 1;
        throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
      }
      const stream = new PassThrough();
      streams.push(stream);
      return stream;
    },
  };
  return { docker: docker as unknown as Docker, calls, streams, failNext: (times: number) => (failures = times) };
}

function event(action: string, name: string, nanos: bigint, attributes: Record<string, string> = {}): string {
  const labels = { 'io.deis.platform': 'p', 'io.deis.scheduler.key': KEY, 'io.deis.scheduler.labels': JSON.stringify({ app: 'demo' }), 'io.deis.stack-hash': 'x' };
  const actor = { ID: 'abc', Attributes: { ...labels, ...attributes, name, image: 'app:1' } };
  // timeNano is written as the engine writes it: an integer too large for a double.
  return `{"status":"${action}","Action":"${action}","Type":"container","Actor":${JSON.stringify(actor)},"time":${nanos / 1_000_000_000n},"timeNano":${nanos}}\n`;
}

const KEY = 'k'.repeat(32);

describe('DockerScheduler.watch', () => {
  it('turns engine events into container events, whatever the chunking, and reconnects from the last one', async () => {
    const engine = standInEngine();
    const scheduler = new DockerScheduler({ docker: engine.docker, platformName: 'p', networkName: 'n', networkSubnet: '100.64.0.0/16', containerKey: KEY });
    const seen: ContainerEvent[] = [];
    const stop = scheduler.watch({ app: 'demo' }, (e) => seen.push(e));
    await eventually(() => engine.streams.length, (n) => n === 1);
    expect(engine.calls[0]?.filters.label.sort()).toEqual(['app=demo', 'io.deis.platform=p', `io.deis.scheduler.key=${KEY}`]);
    expect(engine.calls[0]?.filters.event.sort()).toEqual(['create', 'destroy', 'die', 'start']);

    const base = BigInt(Date.now() + 1_000) * 1_000_000n;
    const text = event('create', 'demo-web-1', base + 1n) + event('start', 'demo-web-1', base + 2n) + event('exec_start', 'demo-web-1', base + 3n)
      + event('die', 'demo-web-1', base + 4n, { exitCode: '1' })
      // A container with the app's labels but another key, or none (a build's RUN container), is not the app's.
      + event('start', 'impostor', base + 5n, { 'io.deis.scheduler.key': 'guess' }) + event('start', 'impostor', base + 6n, { 'io.deis.scheduler.key': '' })
      + event('die', 'demo-web-2', base + 7n, { exitCode: '0' });
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += 37) engine.streams[0]?.write(bytes.subarray(at, at + 37));
    await eventually(() => seen.length, (n) => n === 4);
    expect(seen).toEqual([
      { name: 'demo-web-1', labels: { app: 'demo' }, state: 'starting' },
      { name: 'demo-web-1', labels: { app: 'demo' }, state: 'up' },
      { name: 'demo-web-1', labels: { app: 'demo' }, state: 'crashed' },
      { name: 'demo-web-2', labels: { app: 'demo' }, state: 'down' },
    ]);

    // The engine goes away and comes back: the watch reconnects, asks from the last event's second, and drops repeats.
    engine.failNext(1);
    engine.streams[0]?.end();
    await eventually(() => engine.streams.length, (n) => n === 2, 10_000);
    expect(engine.calls.at(-1)?.since).toBe(Number((base + 7n) / 1_000_000_000n));
    engine.streams[1]?.write(event('die', 'demo-web-2', base + 7n, { exitCode: '0' }) + event('destroy', 'demo-web-2', base + 8n));
    await eventually(() => seen.length, (n) => n === 5);
    expect(seen.at(-1)).toEqual({ name: 'demo-web-2', labels: { app: 'demo' }, state: 'removed' });

    stop();
    expect(engine.streams[1]?.destroyed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(engine.streams).toHaveLength(2);
  });
});
