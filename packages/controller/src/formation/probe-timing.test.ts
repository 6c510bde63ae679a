import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { deploySeeded, seedApp } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';

/**
 * Which probe timing fields a deploy heeds, as docs/health.md says: a deploy waits DEIS_DEPLOY_TIMEOUT for readiness
 * whatever the readiness probe's timing fields say; after the deploy, the health monitor honours all of them
 * (container-health.test.ts).
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

  it('waits DEIS_DEPLOY_TIMEOUT for readiness whatever the readiness probe timing fields say', async () => {
    const waitReady = vi.spyOn(controller.scheduler, 'waitReady');
    const readinessProbe = { tcpSocket: { port: 5000 }, initialDelaySeconds: 1, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve' } }, { healthcheck: { web: { readinessProbe } } });
    expect(waitReady.mock.calls.map((call) => [call[1], call[2]])).toEqual([[{ kind: 'tcp', port: 5000 }, 45_000]]);
  });
});
