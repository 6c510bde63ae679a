import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestController, TEST_BUILDER_KEY } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe("apps:destroy tells the builder to forget the app's repository", () => {
  let controller: TestController | undefined;
  const closers: Array<() => void> = [];
  afterEach(async () => {
    await controller?.close();
    for (const close of closers.splice(0)) close();
  });

  async function fakeBuilder(status: number): Promise<{ port: number; calls: Array<{ method: string; url: string; key: string }> }> {
    const calls: Array<{ method: string; url: string; key: string }> = [];
    const server = createServer((req, res) => {
      calls.push({ method: req.method ?? '', url: req.url ?? '', key: String(req.headers['x-deis-builder-auth'] ?? '') });
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    return { port: (server.address() as AddressInfo).port, calls };
  }

  it('calls DELETE /apps/<app>?uuid=<uuid> with the builder key, and the app hook answers the uuid it is bound to', async () => {
    const builder = await fakeBuilder(204);
    controller = await startTestController({ builderHttpUpstream: { host: '127.0.0.1', port: builder.port } });
    const alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const hook = await controller.call('POST', '/v2/hooks/app/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp' } });
    const { uuid } = hook.json as { uuid: string };
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await controller.call('DELETE', '/v2/apps/myapp/', { token: alice })).status).toBe(204);
    expect(builder.calls).toEqual([{ method: 'DELETE', url: `/apps/myapp?uuid=${uuid}`, key: TEST_BUILDER_KEY }]);
    // The same name again is another app: another uuid, so the builder makes it a new repository.
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    const again = await controller.call('POST', '/v2/hooks/app/', { builder: true, body: { receive_user: 'alice', receive_repo: 'myapp' } });
    expect((again.json as { uuid: string }).uuid).not.toBe(uuid);
  });

  it('destroys the app even when the builder cannot forget it', async () => {
    const builder = await fakeBuilder(500);
    controller = await startTestController({ builderHttpUpstream: { host: '127.0.0.1', port: builder.port } });
    const alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    expect((await controller.call('DELETE', '/v2/apps/myapp/', { token: alice })).status).toBe(204);
    expect(builder.calls).toHaveLength(1);
    expect((await controller.call('GET', '/v2/apps/myapp/', { token: alice })).status).toBe(404);
  });

  it('the app hook checks the user like the other hooks', async () => {
    controller = await startTestController();
    const alice = await controller.user('alice');
    await controller.user('bob');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    expect((await controller.call('POST', '/v2/hooks/app/', { builder: true, body: { receive_user: 'bob', receive_repo: 'myapp' } })).status).toBe(403);
    expect((await controller.call('POST', '/v2/hooks/app/', { builder: true, body: { receive_user: 'alice', receive_repo: 'nope' } })).status).toBe(404);
  });
});
