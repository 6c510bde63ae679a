import type { ContainerSpec } from '@deis/scheduler/scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordRuns, startWithAlicesCreatedApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

/** Issue 9, item 2: Dockerfile and image apps' commands run under /bin/bash -c when the image has bash, else /bin/sh -c. */
describe('the shell of commands', () => {
  let controller: TestController;
  let token: string;
  let runs: ContainerSpec[];
  beforeEach(async () => {
    ({ controller, alice: token } = await startWithAlicesCreatedApp('shelled'));
    runs = recordRuns(controller);
  });
  afterEach(async () => controller.close());

  const deploy = async (build: Record<string, unknown>) => {
    const response = await controller.call('POST', '/v2/apps/shelled/builds/', { token, body: build });
    expect(response.status, response.body).toBe(201);
  };
  const run = async (command: string) => {
    expect((await controller.call('POST', '/v2/apps/shelled/run', { token, body: { command } })).status).toBe(200);
    const spec = runs[runs.length - 1]!;
    return [...(spec.entrypoint ?? []), ...(spec.command ?? [])];
  };
  const entrypointOf = (type: string) => controller.scheduler.specs().find((s) => s.labels['io.deis.type'] === type)?.entrypoint;

  it('uses bash for one-off runs and Procfile types of an image that has it', async () => {
    controller.scheduler.defineImage('example/bash:1', [5000], ['/bin/bash', '/bin/sh']);
    await deploy({ image: 'example/bash:1', procfile: { web: 'exec ./web' } });
    expect(entrypointOf('web')).toEqual(['/bin/bash', '-c']);
    expect(await run('printf %q $BIP')).toEqual(['/bin/bash', '-c', 'printf %q $BIP']);
  });

  it('uses sh only for an image without bash, and the image CMD runs as it is', async () => {
    controller.scheduler.defineImage('example/sh:1', [5000], ['/bin/sh']);
    await deploy({ image: 'example/sh:1' });
    expect(entrypointOf('cmd')).toBeUndefined();
    expect(await run('echo hi')).toEqual(['/bin/sh', '-c', 'echo hi']);
  });

  it('decides for Dockerfile builds by their image too', async () => {
    controller.scheduler.defineImage('shelled:git-0a1b2c3d', [5000], ['/bin/bash']);
    const hook = await controller.call('POST', '/v2/hooks/build/', {
      builder: true,
      body: { receive_user: 'alice', receive_repo: 'shelled', image: 'shelled:git-0a1b2c3d', sha: '0a1b2c3d', procfile: { worker: 'sleep 1' }, dockerfile: 'true' },
    });
    expect(hook.status, hook.body).toBe(200);
    await controller.call('POST', '/v2/apps/shelled/scale/', { token, body: { worker: 1 } });
    expect(entrypointOf('worker')).toEqual(['/bin/bash', '-c']);
    expect(await run('ls')).toEqual(['/bin/bash', '-c', 'ls']);
  });

  it('keeps buildpack apps on the slug runner with bash', async () => {
    controller.scheduler.defineImage('shelled:git-1a2b3c4d', [], []);
    const hook = await controller.call('POST', '/v2/hooks/build/', {
      builder: true,
      body: { receive_user: 'alice', receive_repo: 'shelled', image: 'shelled:git-1a2b3c4d', sha: '1a2b3c4d', procfile: { web: 'node web.js' }, dockerfile: '' },
    });
    expect(hook.status, hook.body).toBe(200);
    expect(entrypointOf('web')).toEqual(['/runner/init']);
    expect(await run('env')).toEqual(['/runner/init', '/bin/bash', '-c', 'env']);
  });
});
