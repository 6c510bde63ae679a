import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { lineMatches, logFilterOf } from './log-stream.ts';

describe('following an app\'s log', () => {
  let controller: TestController;
  let alice: string;
  let base: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    base = await controller.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => controller.close());

  const follow = (query: string) =>
    new Promise<{ response: IncomingMessage; lines: string[] }>((resolve, reject) => {
      const request = httpRequest(`${base}/v2/apps/demo/logs?follow=true${query}`, { headers: { authorization: `token ${alice}` } }, (response) => {
        const lines: string[] = [];
        let pending = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          pending += chunk;
          const parts = pending.split('\n');
          pending = parts.pop() ?? '';
          lines.push(...parts.filter((line) => line !== ''));
        });
        resolve({ response, lines });
      });
      request.on('error', reject);
      request.end();
    });

  const startContainer = async (type: string, name: string) => {
    await controller.scheduler.start({
      name,
      image: 'example/app:1',
      env: {},
      labels: { 'io.deis.platform': 'test', 'io.deis.app': 'demo', 'io.deis.type': type, 'io.deis.release': 'v2' },
    });
  };

  it('sends the recent lines, then each new line and event as it comes, unbuffered, until the client leaves', async () => {
    await startContainer('web', 'demo-web-1234567890-abcde');
    controller.scheduler.print('demo-web-1234567890-abcde', 'before');
    const { response, lines } = await follow('&log_lines=2');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.headers['x-accel-buffering']).toBe('no');
    await eventually(() => lines.length, (n) => n === 2);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 demo\[web\.v2\.abcde\]: before$/);
    controller.scheduler.print('demo-web-1234567890-abcde', 'after');
    await eventually(() => lines.at(-1) ?? '', (line) => line.endsWith('demo[web.v2.abcde]: after'));
    expect((await controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { values: { A: '1' } } })).status).toBe(201);
    await eventually(() => lines.at(-1) ?? '', (line) => / deis\[controller\]: INFO alice added A$/.test(line));
    response.destroy();
  });

  it('applies the type and release filters to the stream', async () => {
    await startContainer('web', 'demo-web-1234567890-abcde');
    await startContainer('worker', 'demo-worker-1234567890-fghij');
    const { lines } = await follow('&type=worker');
    controller.scheduler.print('demo-web-1234567890-abcde', 'from web');
    controller.scheduler.print('demo-worker-1234567890-fghij', 'from worker');
    await eventually(() => lines.length, (n) => n >= 1);
    expect(lines).toEqual([expect.stringMatching(/demo\[worker\.v2\.fghij\]: from worker$/)]);
  });

  it('ends open streams when the controller closes', async () => {
    const { response } = await follow('');
    const ended = new Promise<void>((resolve) => response.once('close', resolve));
    await controller.close();
    await ended;
    controller = await startTestController();
  });

  it('matches lines by their process tag', () => {
    const web = '2026-11-28T12:00:00+00:00 demo[web.v3.abcde]: hi';
    const event = '2026-11-28T12:00:00+00:00 deis[controller]: INFO demo[web.v3.abcde]';
    expect(lineMatches('demo', web, {})).toBe(true);
    expect(lineMatches('demo', event, {})).toBe(true);
    expect(lineMatches('demo', web, logFilterOf({ type: 'web', release: '3' }))).toBe(true);
    expect(lineMatches('demo', web, logFilterOf({ release: 'v4' }))).toBe(false);
    expect(lineMatches('demo', event, logFilterOf({ type: 'web' }))).toBe(false);
  });
});
