import { describe, expect, it } from 'vitest';
import { containerSpec, cpuMillis, defaultStructure, memoryBytes, readinessCheck, releasePort, runSpec } from './container-spec.ts';
import type { ReleaseContext } from './container-spec.ts';

const build = (over: Partial<ReleaseContext['build']> = {}): ReleaseContext['build'] => ({ uuid: 'b', image: 'i', sha: '', procfile: {}, dockerfile: '', ...over });

describe('container specs', () => {
  it('reads memory and cpu limits in the forms Deis accepts, the limit part of request/limit', () => {
    expect(memoryBytes('64M')).toBe(64 * 1024 ** 2);
    expect(memoryBytes('1gb')).toBe(1024 ** 3);
    expect(memoryBytes('512K')).toBe(512 * 1024);
    expect(memoryBytes('0/100MB')).toBe(100 * 1024 ** 2);
    expect(memoryBytes('0')).toBeUndefined();
    expect(memoryBytes(undefined)).toBeUndefined();
    expect(cpuMillis('500m')).toBe(500);
    expect(cpuMillis('2')).toBe(2000);
    expect(cpuMillis('0.25')).toBe(250);
    expect(cpuMillis('100m/1')).toBe(1000);
    expect(cpuMillis('lots')).toBeUndefined();
  });

  it('chooses the default structure by the rules of _default_structure', () => {
    expect(defaultStructure(build({ procfile: { web: 'x', worker: 'y' }, sha: 'a' }))).toEqual({ web: 1 });
    expect(defaultStructure(build())).toEqual({ cmd: 1 });
    expect(defaultStructure(build({ sha: 'a', dockerfile: 'true', procfile: { worker: 'y' } }))).toEqual({ cmd: 1 });
    expect(defaultStructure(build({ sha: 'a', procfile: { worker: 'y' } }))).toEqual({});
    expect(defaultStructure(build({ sha: 'a' }))).toEqual({ web: 1 });
  });

  it('takes PORT from the config, then 5000 for buildpacks, then the image, then 5000', () => {
    expect(releasePort(build(), { PORT: '8000' }, [9000])).toBe(8000);
    expect(releasePort(build({ sha: 'a' }), {}, [9000])).toBe(5000);
    expect(releasePort(build(), {}, [9000, 9001])).toBe(9000);
    expect(releasePort(build(), {}, [])).toBe(5000);
    expect(releasePort(build(), {}, null)).toBe(5000);
  });

  it('checks readiness with the type own probe, then web/cmd, then TCP to PORT for web and cmd only', () => {
    const context = (healthcheck: Record<string, unknown>): ReleaseContext => ({
      appUuid: 'u', appId: 'a', releaseUuid: 'r', version: 2, summary: '', created: '2026-01-01T00:00:00.000Z',
      build: build(), config: { values: {}, memory: {}, cpu: {}, healthcheck }, port: 5000, shell: '/bin/sh',
    });
    expect(readinessCheck(context({}), 'web')).toEqual({ kind: 'tcp', port: 5000 });
    expect(readinessCheck(context({}), 'worker')).toBeNull();
    const shared = { 'web/cmd': { readinessProbe: { httpGet: { path: '/up', httpHeaders: [{ name: 'X', value: '1' }] } } } };
    expect(readinessCheck(context(shared), 'cmd')).toEqual({ kind: 'http', port: 5000, path: '/up', headers: { X: '1' } });
    expect(readinessCheck(context(shared), 'worker')).toBeNull();
    expect(readinessCheck(context({ worker: { readinessProbe: { exec: { command: ['true'] } } } }), 'worker')).toEqual({ kind: 'exec', command: ['true'] });
    expect(readinessCheck(context({ web: { livenessProbe: { tcpSocket: { port: 1 } } } }), 'web')).toEqual({ kind: 'tcp', port: 5000 });
  });

  it('runs a slug through /runner/init: `start <type>` for its processes, bash for one-off runs', () => {
    const context = (over: Partial<ReleaseContext['build']>, shell: ReleaseContext['shell'] = '/bin/sh'): ReleaseContext => ({
      appUuid: 'u', appId: 'a', releaseUuid: 'r', version: 2, summary: '', created: '2026-01-01T00:00:00.000Z',
      build: build(over), config: { values: {}, memory: {}, cpu: {}, healthcheck: {} }, port: 5000, shell,
    });
    const slug = context({ sha: 'abc', procfile: { web: 'bin/web', worker: 'bin/work' } });
    expect(containerSpec('deis', slug, 'worker', 'a-worker-1')).toMatchObject({ entrypoint: ['/runner/init'], command: ['start', 'worker'] });
    expect(runSpec('deis', slug, 'a-run-1', 'echo $HOME')).toMatchObject({ entrypoint: ['/runner/init', '/bin/bash', '-c'], command: ['echo $HOME'] });
    const dockerfile = context({ sha: 'abc', dockerfile: 'true', procfile: { web: 'bin/web' } });
    expect(containerSpec('deis', dockerfile, 'web', 'a-web-1')).toMatchObject({ entrypoint: ['/bin/sh', '-c'], command: ['bin/web'] });
    expect(runSpec('deis', dockerfile, 'a-run-1', 'ls')).toMatchObject({ entrypoint: ['/bin/sh', '-c'], command: ['ls'] });
  });

  it('gives a one-off run the limits set for the type run, and none of the other types', () => {
    const context = (memory: Record<string, string>, cpu: Record<string, string>): ReleaseContext => ({
      appUuid: 'u', appId: 'a', releaseUuid: 'r', version: 2, summary: '', created: '2026-01-01T00:00:00.000Z',
      build: build({ procfile: { web: 'bin/web' } }), config: { values: {}, memory, cpu, healthcheck: {} }, port: 5000, shell: '/bin/sh',
    });
    const limited = runSpec('deis', context({ run: '1G', web: '64M' }, { run: '500m' }), 'a-run-1', 'ls');
    expect(limited).toMatchObject({ memoryBytes: 1024 ** 3, cpuMillis: 500 });
    // Without limits of its own the scheduler's defaults apply, not the web type's.
    const unlimited = runSpec('deis', context({ web: '64M' }, { web: '1' }), 'a-run-1', 'ls');
    expect(unlimited).not.toHaveProperty('memoryBytes');
    expect(unlimited).not.toHaveProperty('cpuMillis');
  });

  it('runs the commands of Dockerfile and image apps under bash when the image has it', () => {
    const context = (over: Partial<ReleaseContext['build']>): ReleaseContext => ({
      appUuid: 'u', appId: 'a', releaseUuid: 'r', version: 2, summary: '', created: '2026-01-01T00:00:00.000Z',
      build: build(over), config: { values: {}, memory: {}, cpu: {}, healthcheck: {} }, port: 5000, shell: '/bin/bash',
    });
    const image = context({ procfile: { web: 'bin/web' } });
    expect(containerSpec('deis', image, 'web', 'a-web-1')).toMatchObject({ entrypoint: ['/bin/bash', '-c'], command: ['bin/web'] });
    expect(runSpec('deis', image, 'a-run-1', 'printf %q "$BIP"')).toMatchObject({ entrypoint: ['/bin/bash', '-c'], command: ['printf %q "$BIP"'] });
    // The image's own CMD runs as it is.
    expect(containerSpec('deis', context({}), 'cmd', 'a-cmd-1')).not.toHaveProperty('entrypoint');
  });
});
