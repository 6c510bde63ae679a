import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { reconcileApp } from './reconciler.ts';
import { deploySeeded, seedApp } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';

/**
 * Which probe timing fields act today, as docs/cli.md (healthchecks) says: liveness honours initialDelaySeconds,
 * timeoutSeconds and failureThreshold and is checked on every reconciler pass, whatever periodSeconds says; readiness
 * timing fields are stored and shown but a deploy waits DEIS_DEPLOY_TIMEOUT for readiness whatever they say.
 */
describe('probe timing', () => {
  let controller: TestController;
  let app: SeededApp;
  beforeEach(async () => {
    controller = await startTestController({ deployTimeoutMs: 45_000 });
    await controller.user('alice');
    app = await seedApp(controller, 'demo', 'alice');
  });
  afterEach(async () => controller.close());

  const running = async () => (await controller.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up').map((c) => c.name);
  /** Deploys one web container that is ready (TCP) but never alive (HTTP), with `probe` as its liveness probe. */
  const deployNeverAlive = async (probe: Record<string, unknown>) => {
    controller.scheduler.behaviour = () => ({ ready: (check) => check.kind !== 'http' });
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve' } }, { healthcheck: { web: { livenessProbe: { httpGet: { path: '/live', port: 5000 }, ...probe } } } });
    return running();
  };

  it('checks liveness on every pass whatever periodSeconds says, with timeoutSeconds for each check', async () => {
    const [first] = await deployNeverAlive({ periodSeconds: 3600, timeoutSeconds: 7, failureThreshold: 2 });
    const waitReady = vi.spyOn(controller.scheduler, 'waitReady');
    const livenessFailures = new Map<string, number>();
    await reconcileApp(controller.deps, app.uuid, { livenessFailures });
    expect(await running()).toEqual([first]);
    await reconcileApp(controller.deps, app.uuid, { livenessFailures });
    expect(await running()).not.toContain(first);
    const livenessCalls = waitReady.mock.calls.filter((call) => call[0] === first && call[1].kind === 'http');
    expect(livenessCalls.map((call) => call[2])).toEqual([7_000, 7_000]);
  });

  it('does not check liveness within initialDelaySeconds of the start', async () => {
    const [first] = await deployNeverAlive({ initialDelaySeconds: 3600, failureThreshold: 1 });
    const livenessFailures = new Map<string, number>();
    for (let pass = 0; pass < 3; pass += 1) await reconcileApp(controller.deps, app.uuid, { livenessFailures });
    expect(await running()).toEqual([first]);
  });

  it('waits DEIS_DEPLOY_TIMEOUT for readiness whatever the readiness probe timing fields say', async () => {
    const waitReady = vi.spyOn(controller.scheduler, 'waitReady');
    const readinessProbe = { tcpSocket: { port: 5000 }, initialDelaySeconds: 1, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve' } }, { healthcheck: { web: { readinessProbe } } });
    expect(waitReady.mock.calls.map((call) => [call[1], call[2]])).toEqual([[{ kind: 'tcp', port: 5000 }, 45_000]]);
  });
});
