import type { Config, Pod, Release } from '@deis/sdk/types';
import type { ReadinessCheck } from '@deis/scheduler/scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { reconcileApp } from './reconciler.ts';
import { appUpstreams } from './upstreams.ts';

/**
 * Issue 9, item 3: a readiness check that never passes within the deploy timeout. As Deis (Kubernetes) did, the deploy
 * answers success, the release is current, the old containers keep serving and the new ones stay "starting", probed
 * until they pass. A container that exits still fails the release.
 */
describe('a readiness check that does not pass within the deploy timeout', () => {
  let controller: TestController;
  let token: string;
  /** The ports on which the fake's containers answer a check: the app listens on 80 only, until told otherwise. */
  let listening: Set<number>;
  const answers = (check: ReadinessCheck) => check.kind === 'exec' || listening.has(check.port);
  const readiness1500 = { healthcheck: { 'web/cmd': { readinessProbe: { httpGet: { path: '/', port: 1500, httpHeaders: [] }, initialDelaySeconds: 50, timeoutSeconds: 50, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } } } };

  beforeEach(async () => {
    controller = await startTestController();
    token = await controller.user('alice');
    listening = new Set([80]);
    controller.scheduler.behaviour = () => ({ ready: answers });
    controller.scheduler.defineImage('example/web:1', [80]);
    await controller.call('POST', '/v2/apps/', { token, body: { id: 'probed' } });
    expect((await controller.call('POST', '/v2/apps/probed/builds/', { token, body: { image: 'example/web:1' } })).status).toBe(201);
  });
  afterEach(async () => controller.close());

  const releases = async () => ((await controller.call('GET', '/v2/apps/probed/releases/', { token })).json as { results: Release[] }).results;
  const pods = async () => ((await controller.call('GET', '/v2/apps/probed/pods/', { token })).json as { results: Pod[] }).results.map((p) => [p.release, p.state]);
  const upstreamReleases = async () => {
    const upstreams = await appUpstreams(controller.deps, { id: 'probed' });
    const byAddress = new Map(controller.scheduler.specs().map((s) => [s.name, s.labels['io.deis.release']]));
    const containers = await controller.deps.scheduler.list({ 'io.deis.app': 'probed' });
    return upstreams.map((u) => byAddress.get(containers.find((c) => c.address?.host === u.host)!.name));
  };
  const logs = async () => (await controller.call('GET', '/v2/apps/probed/logs', { token })).body;
  async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('answers success with the new release current and a warning, while the old container keeps serving', async () => {
    const response = await controller.call('POST', '/v2/apps/probed/config/', { token, body: readiness1500 });
    expect(response.status, response.body).toBe(201);
    expect((response.json as Config).healthcheck).toEqual(readiness1500.healthcheck);
    expect(response.headers.warning).toMatch(/^199 deis "v3 is released, but its new containers are not ready yet \(probed-cmd-\S+ did not pass the readiness check within 5 s\); the previous containers keep serving/);

    expect((await releases()).map((r) => [r.version, r.failed])).toEqual([[3, false], [2, false], [1, false]]);
    expect(((await controller.call('GET', '/v2/apps/probed/config/', { token })).json as Config).healthcheck).toEqual(readiness1500.healthcheck);
    expect(await pods()).toEqual([['v3', 'starting'], ['v2', 'up']]);
    expect(await upstreamReleases()).toEqual(['v2']);
    expect(await logs()).toMatch(/deis\[controller\]: INFO v3 is released, but its new containers are not ready yet/);

    // The reconciler leaves the old container serving while the new one is still being probed.
    await reconcileApp(controller.deps, (await controller.deps.db.selectFrom('apps').select('uuid').where('id', '=', 'probed').executeTakeFirstOrThrow()).uuid);
    expect(await pods()).toEqual([['v3', 'starting'], ['v2', 'up']]);
  });

  it('switches to the new container once it passes, and stops the old one', async () => {
    await controller.call('POST', '/v2/apps/probed/config/', { token, body: readiness1500 });
    expect(await upstreamReleases()).toEqual(['v2']);
    listening.add(1500);
    expect(await until(pods, (now) => now.length === 1)).toEqual([['v3', 'up']]);
    expect(await upstreamReleases()).toEqual(['v3']);
    expect(await logs()).toMatch(/deis\[controller\]: INFO v3: the new containers are ready and serve the app; the previous ones are stopped/);
  });

  it('fails the release as before when the new container exits, and the old one keeps serving', async () => {
    controller.scheduler.behaviour = (spec) => (spec.env.WORKFLOW_RELEASE === 'v3' ? { exitCode: 1, output: [{ stream: 'stderr', text: 'boom' }] } : { ready: answers });
    const response = await controller.call('POST', '/v2/apps/probed/config/', { token, body: readiness1500 });
    expect(response.status).toBe(400);
    expect(response.headers.warning).toBeUndefined();
    expect((response.json as { detail: string }).detail).toMatch(/exited with code 1[\s\S]*boom/);
    expect((await releases())[0]).toMatchObject({ version: 3, failed: true });
    expect(await pods()).toEqual([['v2', 'up']]);
  });

  it('drops a still-starting container that exits later, and keeps the old one serving', async () => {
    await controller.call('POST', '/v2/apps/probed/config/', { token, body: readiness1500 });
    const waiting = controller.scheduler.specs().find((s) => s.env.WORKFLOW_RELEASE === 'v3')!;
    controller.scheduler.crash(waiting.name);
    // Listed as crashed, waiting for the reconciler to restart it in place; the old one serves meanwhile.
    expect(await until(pods, (now) => now.some(([, state]) => state === 'crashed'))).toEqual([['v3', 'crashed'], ['v2', 'up']]);
    expect(await upstreamReleases()).toEqual(['v2']);
    expect((await releases())[0]).toMatchObject({ version: 3, failed: false });
  });

  it('lets a later deploy whose containers pass replace both the still-starting and the old containers', async () => {
    await controller.call('POST', '/v2/apps/probed/config/', { token, body: readiness1500 });
    listening.add(1500);
    const response = await controller.call('POST', '/v2/apps/probed/config/', { token, body: { values: { FOO: 'bar' } } });
    expect(response.status).toBe(201);
    expect(response.headers.warning).toBeUndefined();
    expect(await until(pods, (now) => now.length === 1)).toEqual([['v4', 'up']]);
    expect(await upstreamReleases()).toEqual(['v4']);
  });
});
