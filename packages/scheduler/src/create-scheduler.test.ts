import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createScheduler } from './create-scheduler.ts';
import { FakeScheduler } from './fake/fake-scheduler.ts';
import { SchedulerUnavailableError } from './scheduler.ts';

describe('createScheduler', () => {
  it('makes the fake on request', async () => {
    expect(await createScheduler({ kind: 'fake', platformName: 'p', networkName: 'n', networkSubnet: '100.64.0.0/16', containerKey: 'k'.repeat(32) })).toBeInstanceOf(FakeScheduler);
  });

  it('says the engine is unavailable when the Docker socket does not answer', async () => {
    const docker = new Docker({ socketPath: '/nonexistent/docker.sock' });
    const made = createScheduler({ kind: 'docker', platformName: 'p', networkName: 'n', networkSubnet: '100.64.0.0/16', containerKey: 'k'.repeat(32), docker });
    await expect(made).rejects.toBeInstanceOf(SchedulerUnavailableError);
  });
});
