import type { Page, PlatformNode } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whenAppIdle } from '../formation/formation-state.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('GET /v2/nodes/ (an extension: the scheduler\'s nodes, for admins)', () => {
  let controller: TestController;
  let admin: string;
  beforeEach(async () => {
    controller = await startTestController({ nodeLabels: { environ: 'prod' } });
    admin = await controller.user('admin', { admin: true });
  });
  afterEach(async () => controller.close());

  const nodes = async (query = '') => {
    const response = await controller.call('GET', `/v2/nodes/${query}`, { token: admin });
    expect(response.status, response.body).toBe(200);
    return response.json as Page<PlatformNode>;
  };

  it('on one host lists the host, labelled by DEIS_NODE_LABELS, with the containers running on it', async () => {
    expect((await nodes()).results).toEqual([
      { id: 'fake-node-1', hostname: 'fake-node-1', address: '127.0.0.1', state: 'ready', availability: 'active', role: 'manager', labels: { environ: 'prod' }, containers: 0 },
    ]);
    await controller.call('POST', '/v2/apps/', { token: admin, body: { id: 'demo' } });
    expect((await controller.call('POST', '/v2/apps/demo/builds/', { token: admin, body: { image: 'example/app:v1', procfile: { web: 'serve', worker: 'work' } } })).status).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    expect((await controller.call('POST', '/v2/apps/demo/scale/', { token: admin, body: { web: 2, worker: 1 } })).status).toBe(204);
    await whenAppIdle(controller.deps, 'demo');
    expect((await nodes()).results[0]!.containers).toBe(3);
  });

  it('lists every node of the scheduler in its order, paginated', async () => {
    controller.scheduler.nodes = [
      { id: 'n1', hostname: 'manager-1', address: '10.0.0.5', state: 'ready', availability: 'active', role: 'manager', labels: {} },
      { id: 'n2', hostname: 'worker-1', address: '10.0.0.6', state: 'down', availability: 'drain', role: 'worker', labels: { disk: 'ssd' } },
      { id: 'n3', hostname: 'worker-2', address: null, state: 'ready', availability: 'pause', role: 'worker', labels: { gpu: 'yes', disk: 'hdd' } },
    ];
    const all = await nodes();
    expect(all.count).toBe(3);
    expect(all.next).toBeNull();
    expect(all.results.map((node) => [node.hostname, node.state, node.availability, node.role, node.labels])).toEqual([
      ['manager-1', 'ready', 'active', 'manager', {}],
      ['worker-1', 'down', 'drain', 'worker', { disk: 'ssd' }],
      ['worker-2', 'ready', 'pause', 'worker', { gpu: 'yes', disk: 'hdd' }],
    ]);
    const first = await nodes('?limit=2');
    expect(first.results.map((node) => node.id)).toEqual(['n1', 'n2']);
    expect(first.next).toBe('http://localhost/v2/nodes/?limit=2&offset=2');
    expect((await nodes('?limit=2&offset=2')).results.map((node) => node.id)).toEqual(['n3']);
  });

  it('is 403 for other users and 401 without a token', async () => {
    const alice = await controller.user('alice');
    const denied = await controller.call('GET', '/v2/nodes/', { token: alice });
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({ detail: 'You do not have permission to perform this action.' });
    expect((await controller.call('GET', '/v2/nodes/')).status).toBe(401);
  });

  it('is 503 when the scheduler does not answer', async () => {
    controller.scheduler.failNext('listNodes');
    expect((await controller.call('GET', '/v2/nodes/', { token: admin })).status).toBe(503);
  });
});
