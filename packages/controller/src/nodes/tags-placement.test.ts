import type { Config } from '@deis/sdk/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whenAppIdle } from '../formation/formation-state.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('tags are placement: checked against the scheduler\'s nodes, carried by every container spec', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    controller.scheduler.nodes = [
      { id: 'n1', hostname: 'manager-1', address: '10.0.0.5', state: 'ready', availability: 'active', role: 'manager', labels: {} },
      { id: 'n2', hostname: 'worker-1', address: '10.0.0.6', state: 'ready', availability: 'active', role: 'worker', labels: { disk: 'ssd', zone: 'a' } },
      { id: 'n3', hostname: 'worker-2', address: '10.0.0.7', state: 'ready', availability: 'active', role: 'worker', labels: { disk: 'hdd', zone: 'a' } },
    ];
    alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } });
    expect((await controller.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:v1', procfile: { web: 'serve' } } })).status).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
  });
  afterEach(async () => controller.close());

  const setTags = (tags: Record<string, string | null>) => controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { tags } });
  const webSpecs = () => controller.scheduler.specs().filter((spec) => spec.labels['io.deis.type'] === 'web');

  it('accepts tags that one node carries together, and the new containers require them', async () => {
    expect(webSpecs().map((spec) => spec.placement)).toEqual([undefined]);
    const response = await setTags({ disk: 'ssd', zone: 'a' });
    expect(response.status, response.body).toBe(201);
    expect((response.json as Config).tags).toEqual({ disk: 'ssd', zone: 'a' });
    await whenAppIdle(controller.deps, 'demo');
    const specs = webSpecs();
    expect(specs.at(-1)!.placement).toEqual({ disk: 'ssd', zone: 'a' });
    expect((await controller.scheduler.listNodes()).map((node) => node.containers)).toEqual([0, 1, 0]);

    // One-off runs too, as Deis put tags on every pod of the app.
    const ran: Array<Record<string, string> | undefined> = [];
    controller.scheduler.runHandler = (spec) => {
      ran.push(spec.placement);
      return { exitCode: 0, output: 'hi\n' };
    };
    const run = await controller.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'echo hi' } });
    expect(run.status, run.body).toBe(200);
    expect(ran).toEqual([{ disk: 'ssd', zone: 'a' }]);

    // Unset, containers go anywhere again.
    expect((await setTags({ disk: null, zone: null })).status).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    expect(webSpecs().at(-1)!.placement).toBeUndefined();
  });

  it('refuses tags no one node carries, with the message of Deis, naming the addition at fault', async () => {
    const none = await setTags({ disk: 'nvme' });
    expect(none.status).toBe(400);
    expect(none.json).toEqual({ detail: 'No nodes matched the provided labels: disk=nvme' });
    // Each label is on some node, but not both on one.
    const split = await setTags({ disk: 'ssd', zone: 'b' });
    expect(split.status).toBe(400);
    expect((await setTags({ zone: 'a' })).status).toBe(201);
    const added = await setTags({ disk: 'nvme' });
    expect(added.json).toEqual({ detail: 'No nodes matched the provided labels: zone=a, disk=nvme - Addition of disk=nvme is the cause' });
  });

  it('asks the scheduler only when tags change: an engine that does not answer blocks nothing else', async () => {
    controller.scheduler.failNext('listNodes');
    expect((await controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { values: { A: '1' } } })).status).toBe(201);
    const unavailable = await setTags({ disk: 'hdd' });
    expect(unavailable.status).toBe(503);
    expect((unavailable.json as { detail: string }).detail).toContain('the scheduler could not list its nodes');
    expect((await setTags({ disk: 'hdd' })).status).toBe(201);
  });
});
