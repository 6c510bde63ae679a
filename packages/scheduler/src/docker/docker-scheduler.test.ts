import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { SchedulerUnavailableError } from '../scheduler.ts';
import { DockerScheduler, isLoopbackRegistry, registryOf } from './docker-scheduler.ts';

// Without an engine: every operation says the engine is unavailable rather than blaming the request.
describe('DockerScheduler without an engine', () => {
  const scheduler = new DockerScheduler({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }), platformName: 'p', networkName: 'n', networkSubnet: '100.64.0.0/16', containerKey: 'k'.repeat(32) });
  const spec = { name: 'x', image: 'app:1', env: {}, labels: {} };

  it('reports SchedulerUnavailableError from each operation', async () => {
    await expect(scheduler.start(spec)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.list({})).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.stop('x', 1)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.run(spec, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.waitReady('x', { kind: 'tcp', port: 1 }, 1_000)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.logs('x', 1)).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.imagePorts('app:1')).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.imageHasFile('app:1', '/bin/bash')).rejects.toBeInstanceOf(SchedulerUnavailableError);
    await expect(scheduler.ensureImage('app:1')).rejects.toBeInstanceOf(SchedulerUnavailableError);
  });
});

describe('the registry of an image reference', () => {
  it('is the first part when it reads as a host, as the engine reads it, else Docker Hub (null)', () => {
    expect(registryOf('deis/nonexistent:dummy')).toBeNull();
    expect(registryOf('nginx')).toBeNull();
    expect(registryOf('quay.io/deis/nonexistent:dummy')).toBe('quay.io');
    expect(registryOf('127.0.0.1:5000/app:v1')).toBe('127.0.0.1:5000');
    expect(registryOf('localhost/app')).toBe('localhost');
    expect(registryOf('registry:5000/app')).toBe('registry:5000');
  });

  it('may be pulled from only when it is on this host', () => {
    for (const host of ['127.0.0.1:5000', '127.1.2.3', 'localhost', 'localhost:5000', '[::1]:5000']) expect(isLoopbackRegistry(host), host).toBe(true);
    for (const host of ['quay.io', 'registry:5000', '10.0.0.1:5000', '127.0.0.1.example.com', '[::2]:5000']) expect(isLoopbackRegistry(host), host).toBe(false);
  });
});
