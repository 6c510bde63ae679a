import { describe, expect, it } from 'vitest';
import { DEFAULT_BUILD_LIMITS, buildEnvironment, buildResources, cacheVolumeName, slugSize } from './buildpack-build.ts';

describe('buildpack builds', () => {
  it('prints slug sizes as Heroku does: kilobytes under a megabyte, else megabytes with one decimal', () => {
    expect(slugSize(10)).toBe('1K');
    expect(slugSize(709 * 1024 - 100)).toBe('709K');
    expect(slugSize(1024 * 1024)).toBe('1.0M');
    expect(slugSize(1.75 * 1024 * 1024)).toBe('1.8M');
    expect(slugSize(500 * 1024 * 1024)).toBe('500.0M');
  });

  it('limits a build container\'s memory, processes and CPU, the CPU to what the host has', () => {
    expect(buildResources({ memoryBytes: 1024 ** 3, cpus: 1.5, pidsLimit: 100 }, 4)).toEqual({ Memory: 1024 ** 3, NanoCpus: 1_500_000_000, PidsLimit: 100 });
    expect(buildResources(DEFAULT_BUILD_LIMITS, 1).NanoCpus).toBe(1_000_000_000);
    expect(buildResources({ ...DEFAULT_BUILD_LIMITS, cpus: 0 }, 2).NanoCpus).toBe(10_000_000);
  });

  it('keeps each app cache in a volume named after the platform and the app', () => {
    expect(cacheVolumeName('deis', 'my-app')).toBe('deis-buildcache-my-app');
  });

  it('gives builds the dyno HOME, the stack, the commit and the host CA to every tool, and no config var', () => {
    const env = buildEnvironment('0123abcd', false, '/etc/ssl/certs/ca-certificates.crt');
    expect(env).toEqual([
      'HOME=/app',
      'STACK=deis-bookworm',
      'SOURCE_VERSION=0123abcd',
      ...['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'npm_config_cafile', 'PIP_CERT', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO'].map((name) => `${name}=/etc/ssl/certs/ca-certificates.crt`),
    ]);
    expect(buildEnvironment('0123abcd', true, null)).toEqual(['HOME=/app', 'STACK=deis-bookworm', 'SOURCE_VERSION=0123abcd', 'DEIS_DISABLE_CACHE=1']);
  });
});
