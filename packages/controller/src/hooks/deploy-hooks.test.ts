import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentEvents } from '../events/event-log.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { deployHookUrl, sendDeployHooks } from './deploy-hooks.ts';

interface Received {
  url: string;
  authorization: string | undefined;
  body: string;
}

describe('deploy hooks (contract §1.4)', () => {
  let server: Server;
  let received: Received[];
  let waiters: (() => void)[];
  let base: string;
  let controller: TestController | null = null;

  beforeEach(async () => {
    received = [];
    waiters = [];
    server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ url: request.url ?? '', authorization: request.headers.authorization, body });
        response.end('ok');
        waiters.splice(0).forEach((wake) => wake());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(async () => {
    await controller?.close();
    controller = null;
    await new Promise((resolve) => server.close(resolve));
  });

  async function receivedCount(count: number): Promise<Received[]> {
    const deadline = Date.now() + 5000;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} hooks arrived`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return received;
  }

  it('posts every new release with sorted query parameters and an HMAC-SHA1 of the full URL', async () => {
    controller = await startTestController({ deployHookUrls: [base], deployHookSecret: 'hook-secret' });
    const alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { FOO: 'a b' } } });
    const [first, second] = await receivedCount(2);

    expect(first!.url).toBe('/hook?app=myapp&release=v1&release_summary=alice+created+initial+release&sha=&user=alice');
    expect(second!.url).toBe('/hook?app=myapp&release=v2&release_summary=alice+added+FOO&sha=&user=alice');
    const fullUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${second!.url}`;
    expect(second!.authorization).toBe(createHmac('sha1', 'hook-secret').update(fullUrl).digest('hex'));
    expect(JSON.parse(second!.body)).toEqual({ app: 'myapp', release: 'v2', release_summary: 'alice added FOO', sha: '', user: 'alice' });

    const app = await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
    await expect.poll(async () => (await recentEvents(controller!.deps.db, app.uuid, 50)).filter((e) => e.line.includes('Deploy hook sent to')).length).toBe(2);
  });

  it('sends no Authorization header without a secret, and the build sha with builds', async () => {
    controller = await startTestController({ deployHookUrls: [base] });
    const alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    controller.scheduler.defineImage('myapp:git-1234567', [5000]);
    await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp', image: 'myapp:git-1234567', sha: '1234567', procfile: {}, dockerfile: 'true' } });
    const [, build] = await receivedCount(2);
    expect(build!.authorization).toBeUndefined();
    expect(build!.url).toContain('release=v2');
    expect(build!.url).toContain('sha=1234567');
  });

  it('logs a failing receiver without its credentials or query, and never fails the release', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    controller = await startTestController({ deployHookUrls: [`http://user:pa55word@127.0.0.1:${closed}/hook?token=t0ken`], deployHookSecret: 's' });
    const alice = await controller.user('alice');
    const response = await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    expect(response.status).toBe(201);
    const app = await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
    await expect.poll(async () => (await recentEvents(controller!.deps.db, app.uuid, 50)).map((e) => e.line).find((l) => l.includes('deploy hook')), { timeout: 5000 }).toBeDefined();
    const lines = (await recentEvents(controller.deps.db, app.uuid, 50)).map((e) => e.line).join('\n');
    expect(lines).toContain(`An error occurred while sending the deploy hook to http://127.0.0.1:${closed}/hook`);
    expect(lines).not.toContain('pa55word');
    expect(lines).not.toContain('t0ken');
  });

  it('does not hold up the release for a receiver that never answers, and gives up after the timeout', async () => {
    const held: (() => void)[] = [];
    const silent = createServer((_request, response) => held.push(() => response.end()));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
    try {
      controller = await startTestController({ deployHookUrls: [url] });
      const alice = await controller.user('alice');
      const started = Date.now();
      expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } })).status).toBe(201);
      // The hook's own timeout is 10 s; well under it means the release did not wait (with room for a busy machine).
      expect(Date.now() - started).toBeLessThan(5000);
      await expect.poll(() => held.length).toBe(1);

      const app = await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'myapp').executeTakeFirstOrThrow();
      await sendDeployHooks(controller.deps, { appUuid: app.uuid, appId: 'myapp', version: 1, summary: 's', sha: '', username: 'alice' }, 200);
      const lines = (await recentEvents(controller.deps.db, app.uuid, 50)).map((e) => e.line).join('\n');
      expect(lines).toContain(`An error occurred while sending the deploy hook to ${url}: no answer within 0.2s`);
    } finally {
      held.forEach((release) => release());
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('encodes the parameters as Python quote_plus does', () => {
    expect(deployHookUrl('http://h/x', { appUuid: 'u', appId: 'a', version: 3, summary: "bob's (*) ~ok", sha: '', username: 'bob' })).toBe(
      'http://h/x?app=a&release=v3&release_summary=bob%27s+%28%2A%29+~ok&sha=&user=bob',
    );
  });
});
