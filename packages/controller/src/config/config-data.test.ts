import { UnprocessableError, ValidationError } from '@deis/core/errors';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONFIG, mergeConfig, parseConfigChange } from './config-data.ts';
import type { ConfigData } from './config-data.ts';

function fieldError(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError && error.fields) {
      const [field, messages] = Object.entries(error.fields)[0]!;
      return { field, message: messages[0]! };
    }
    throw error;
  }
  throw new Error('no validation error');
}

describe('config validation (contract §1.4)', () => {
  it('checks value keys, PORT, HEALTHCHECK_URL and other HEALTHCHECK_ values', () => {
    expect(fieldError(() => parseConfigChange({ values: { '1BAD': 'x' } }))).toEqual({ field: 'values', message: 'Config keys must start with a letter or underscore and only contain [A-z0-9_]' });
    expect(fieldError(() => parseConfigChange({ values: { 'BAD-KEY': 'x' } })).field).toBe('values');
    expect(fieldError(() => parseConfigChange({ values: { PORT: 'abc' } })).message).toBe('PORT can only be a numeric value');
    expect(fieldError(() => parseConfigChange({ values: { PORT: '70000' } })).message).toBe('PORT needs to be between 1 and 65535');
    expect(fieldError(() => parseConfigChange({ values: { PORT: 0 } })).message).toBe('PORT needs to be between 1 and 65535');
    expect(fieldError(() => parseConfigChange({ values: { HEALTHCHECK_URL: 'http://x/health' } })).message).toContain('can only be a URI path');
    expect(fieldError(() => parseConfigChange({ values: { HEALTHCHECK_URL: '/health?x=1' } })).message).toContain('can only be a URI path');
    expect(fieldError(() => parseConfigChange({ values: { HEALTHCHECK_URL: 'http://example.com' } })).message).toContain('is missing a URI path');
    expect(fieldError(() => parseConfigChange({ values: { HEALTHCHECK_URL: '/health#top' } })).message).toContain('can only be a URI path');
    expect(fieldError(() => parseConfigChange({ values: { HEALTHCHECK_TIMEOUT: 'soon' } })).message).toBe('HEALTHCHECK_TIMEOUT must be a numeric value');
    expect(parseConfigChange({ values: { lower_case: 1, PORT: 5000, HEALTHCHECK_URL: '/healthz', UNSET: null } }).values).toEqual({ lower_case: '1', PORT: '5000', HEALTHCHECK_URL: '/healthz', UNSET: null });
  });

  it('shows values as strings the way Deis prints them', () => {
    expect(parseConfigChange({ values: { A: 10, B: true, C: 1.5, D: 'text' } }).values).toEqual({ A: '10', B: 'True', C: '1.5', D: 'text' });
  });

  it('checks memory and cpu limits and their process types', () => {
    for (const ok of ['64M', '1G', '0', '512MB', '0/100M', '64m/128m']) expect(() => parseConfigChange({ memory: { web: ok } }), ok).not.toThrow();
    expect(fieldError(() => parseConfigChange({ memory: { web: '64X' } })).message).toContain('Memory limit format');
    expect(fieldError(() => parseConfigChange({ memory: { Web_1: '64M' } })).message).toBe('Process types can only contain alphanumeric');
    for (const ok of ['500m', '1', '0.5', '100m/1000m']) expect(() => parseConfigChange({ cpu: { web: ok } }), ok).not.toThrow();
    expect(fieldError(() => parseConfigChange({ cpu: { web: 'lots' } })).message).toContain('CPU limit format');
  });

  it('checks tags and registry keys', () => {
    expect(() => parseConfigChange({ tags: { environ: 'prod', 'example.com/tier': 'db' } })).not.toThrow();
    expect(fieldError(() => parseConfigChange({ tags: { environ: 'not valid!' } })).message).toContain('Tag values');
    expect(fieldError(() => parseConfigChange({ tags: { '-bad': 'x' } })).message).toContain('Tag keys');
    expect(fieldError(() => parseConfigChange({ registry: { 'bad-key': 'x' } })).field).toBe('registry');
  });

  it('checks probes against the Kubernetes probe schema', () => {
    const ok = { livenessProbe: { httpGet: { path: '/', port: 5000 }, initialDelaySeconds: 5, successThreshold: 1 }, readinessProbe: { tcpSocket: { port: 5000 }, successThreshold: 2 } };
    expect(parseConfigChange({ healthcheck: { web: ok } }).healthcheck).toEqual({ web: ok });
    // The older flat form means the web/cmd types.
    expect(parseConfigChange({ healthcheck: { livenessProbe: ok.livenessProbe } }).healthcheck).toEqual({ 'web/cmd': { livenessProbe: ok.livenessProbe } });
    expect(fieldError(() => parseConfigChange({ healthcheck: { web: { startupProbe: {} } } })).message).toBe('Healthcheck keys must be either livenessProbe or readinessProbe');
    expect(fieldError(() => parseConfigChange({ healthcheck: { web: { livenessProbe: { httpGet: { path: '/' } } } } })).message).toContain("'port' is a required property");
    expect(fieldError(() => parseConfigChange({ healthcheck: { web: { livenessProbe: { exec: { command: [] } } } } })).message).toContain('could not validate');
    expect(fieldError(() => parseConfigChange({ healthcheck: { web: { readinessProbe: { periodSeconds: 0 } } } })).message).toContain('less than the minimum of 1');
    expect(fieldError(() => parseConfigChange({ healthcheck: { web: { livenessProbe: { tcpSocket: { port: 1 }, successThreshold: 2 } } } })).message).toBe('livenessProbe successThreshold can only be 1');
  });
});

describe('config merging (contract §1.4)', () => {
  const base: ConfigData = { ...EMPTY_CONFIG, values: { A: '1', B: '2' }, memory: { web: '64M' } };

  it('merges new keys, replaces given ones and unsets null ones', () => {
    const merged = mergeConfig(base, parseConfigChange({ values: { B: '3', C: '4', A: null }, memory: { worker: '128M' } }), {});
    expect(merged.values).toEqual({ B: '3', C: '4' });
    expect(merged.memory).toEqual({ web: '64M', worker: '128M' });
  });

  it('refuses to unset what is not set with 422', () => {
    expect(() => mergeConfig(base, parseConfigChange({ values: { NOPE: null } }), {})).toThrow(new UnprocessableError('NOPE does not exist under values'));
    expect(() => mergeConfig(base, parseConfigChange({ cpu: { web: null } }), {})).toThrow('web does not exist under cpu');
    expect(() => mergeConfig(base, parseConfigChange({ healthcheck: { web: { livenessProbe: null } } }), {})).toThrow('web does not exist under healthcheck');
  });

  it('rolls legacy HEALTHCHECK_ values over into a web/cmd probe', () => {
    const merged = mergeConfig({ ...EMPTY_CONFIG, values: { PORT: '8080' } }, parseConfigChange({ values: { HEALTHCHECK_URL: '/healthz', HEALTHCHECK_TIMEOUT: '5', KEEP: 'x' } }), {});
    expect(merged.values).toEqual({ PORT: '8080', KEEP: 'x' });
    const probe = { initialDelaySeconds: 50, timeoutSeconds: 5, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: '/healthz', port: 8080 } };
    expect(merged.healthcheck).toEqual({ 'web/cmd': { livenessProbe: probe, readinessProbe: probe } });
  });

  it('sets and unsets probes per process type, dropping emptied types', () => {
    const probe = { tcpSocket: { port: 5000 } };
    const withProbes = mergeConfig(EMPTY_CONFIG, parseConfigChange({ healthcheck: { web: { livenessProbe: probe, readinessProbe: probe } } }), {});
    const one = mergeConfig(withProbes, parseConfigChange({ healthcheck: { web: { livenessProbe: null } } }), {});
    expect(one.healthcheck).toEqual({ web: { readinessProbe: probe } });
    expect(mergeConfig(one, parseConfigChange({ healthcheck: { web: { readinessProbe: null } } }), {}).healthcheck).toEqual({});
    expect(mergeConfig(withProbes, parseConfigChange({ healthcheck: { web: null } }), {}).healthcheck).toEqual({});
  });

  it('lower-cases registry keys and needs PORT with registry info', () => {
    expect(() => mergeConfig(EMPTY_CONFIG, parseConfigChange({ registry: { USERNAME: 'bob' } }), {})).toThrow('PORT needs to be set in the config when using a private registry');
    const merged = mergeConfig({ ...EMPTY_CONFIG, values: { PORT: '5000' } }, parseConfigChange({ registry: { USERNAME: 'bob' } }), {});
    expect(merged.registry).toEqual({ username: 'bob' });
  });

  it('accepts only tags that match the node labels', () => {
    expect(mergeConfig(EMPTY_CONFIG, parseConfigChange({ tags: { environ: 'prod' } }), { environ: 'prod' }).tags).toEqual({ environ: 'prod' });
    expect(() => mergeConfig(EMPTY_CONFIG, parseConfigChange({ tags: { environ: 'dev' } }), { environ: 'prod' })).toThrow('No nodes matched the provided labels: environ=dev');
    const tagged = { ...EMPTY_CONFIG, tags: { environ: 'prod' } };
    expect(() => mergeConfig(tagged, parseConfigChange({ tags: { rack: '1' } }), { environ: 'prod' })).toThrow('No nodes matched the provided labels: environ=prod, rack=1 - Addition of rack=1 is the cause');
  });
});
