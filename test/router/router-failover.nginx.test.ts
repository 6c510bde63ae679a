/**
 * The router given several controllers (DEIS_CONTROLLER_URL with commas, ADR 0021): it polls one, and when that one
 * stops answering it takes its whole table from the next and reports to it what it applied. Real nginx; two
 * controllers on stores of their own, so that which one's table is served shows in the answer.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { storeTime } from '@deis/controller/clock';
import { useUpstreamSource } from '@deis/controller/routing/routing-table';
import { startTestController, TEST_BUILDER_KEY } from '@deis/controller/testing/test-controller';
import type { TestController } from '@deis/controller/testing/test-controller';
import { startRouter } from '@deis/router/router';
import type { RunningRouter } from '@deis/router/router';

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the router with two controllers', () => {
  const closing: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close().catch(() => undefined);
  });

  /** An app container stand-in answering with its name. */
  const backend = async (name: string): Promise<{ host: string; port: number }> => {
    const server: Server = createServer((_request, response) => response.end(name));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closing.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
    return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  };

  /** A listening controller whose app `web` is served by `upstream`. */
  const controllerServing = async (upstream: { host: string; port: number }): Promise<{ controller: TestController; url: string }> => {
    const controller = await startTestController({ platformDomain: 'example.test' });
    closing.push(() => controller.close());
    await controller.user('owner');
    const owner = (await controller.deps.db.selectFrom('users').select('id').where('username', '=', 'owner').executeTakeFirstOrThrow()).id;
    const now = storeTime();
    await controller.deps.db.insertInto('apps').values({ uuid: randomUUID(), id: 'web', owner_id: owner, structure: '{}', created: now, updated: now }).execute();
    useUpstreamSource(controller.deps, async () => [upstream]);
    await controller.app.listen({ host: '127.0.0.1', port: 0 });
    return { controller, url: `http://127.0.0.1:${(controller.app.server.address() as AddressInfo).port}` };
  };

  const get = (port: number, host: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end();
    });

  it('polls the first that answers, and the next once it stops answering, taking its whole table', async () => {
    const a = await controllerServing(await backend('from-a'));
    const b = await controllerServing(await backend('from-b'));
    const dir = mkdtempSync(join(tmpdir(), 'deis-router-failover-'));
    closing.push(async () => rmSync(dir, { recursive: true, force: true }));
    const httpPort = await freePort();
    const errors: Error[] = [];
    const refused = `http://127.0.0.1:${await freePort()}`;
    const router: RunningRouter = await startRouter({
      controllerUrl: `${refused},${a.url},${b.url}`,
      builderKey: TEST_BUILDER_KEY,
      dataDir: dir,
      httpPort,
      httpsPort: await freePort(),
      listenAddress: '127.0.0.1',
      onError: (error) => errors.push(error),
    });
    closing.push(() => router.stop());

    // The first URL refuses: the router went on to a, serves its table and reports to it.
    await expect.poll(async () => (await get(httpPort, 'web.example.test')).body, { timeout: 15_000 }).toBe('from-a');
    await expect.poll(() => a.controller.deps.routing.applied, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(b.controller.deps.routing.applied).toBe(0);

    // a dies: the router takes b's table, from scratch, and reports to b what it applied of b's.
    await a.controller.close();
    await expect.poll(async () => (await get(httpPort, 'web.example.test')).body, { timeout: 15_000 }).toBe('from-b');
    await expect.poll(() => b.controller.deps.routing.applied, { timeout: 15_000 }).toBe(b.controller.deps.routing.generation);
    expect(errors.length).toBeGreaterThan(0);
  });
});
