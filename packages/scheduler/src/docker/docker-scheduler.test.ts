import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { SchedulerUnavailableError } from '../scheduler.ts';
import { DockerScheduler } from './docker-scheduler.ts';

// Without an engine: every operation says the engine is unavailable rather than blaming the request.
describe('DockerScheduler without an engine', () => {
  const scheduler = new DockerScheduler({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }), platformName: 'p', networkName: 'n', networkSubnet: '100.64.0.0/16' });
  const spec = { name: 'x', image: 'app:1', env: {}, labels: {} };

  it('reports SchedulerUnavailableError from each operation', async () => {
    await expect(scheduler.start(spec)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.list({})).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.stop('x', 1)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.run(spec, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.waitReady('x', { kind: 'tcp', port: 1 }, 1_000)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.logs('x', 1)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.imagePorts('app:1')).rejects.toBeInstanceOf(SchedulerUnavailableError);
  });
});
