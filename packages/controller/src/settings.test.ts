import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, loadControllerSettings, SettingsError } from './settings.ts';

const KEY = 'builder-key-0123456789';

/** The message of the SettingsError `env` raises. */
function problemsOf(env: Record<string, string>): string {
  let caught: unknown;
  try {
    loadControllerSettings({ DEIS_BUILDER_KEY: KEY, ...env });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SettingsError);
  return (caught as Error).message;
}

describe('loadControllerSettings', () => {
  it('has a default for everything but the builder key', () => {
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_DATA_DIR: '/var/lib/deis' })).toEqual({
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: '/var/lib/deis/controller.sqlite',
      builderKey: KEY,
      registrationMode: 'admin_only',
      platformDomain: 'localhost',
      deployHookUrls: [],
      deployHookSecret: null,
      deployTimeoutMs: 120_000,
      gracePeriodSeconds: 30,
      imagesKeptPerApp: 10,
      releasesKeptPerApp: 100,
      releasePhaseTimeoutMs: 600_000,
      platformName: 'deis',
      procfileMissingRemove: true,
      rejectIfProcfileMissing: false,
      nodeLabels: {},
      logLevel: 'info',
      builderHttpUpstream: null,
      controllerUpstream: null,
      limits: DEFAULT_LIMITS,
      logDir: '/var/lib/deis/logs',
      logLinesPerApp: 1500,
      drainsAllowPrivate: false,
      drainsCaFile: null,
      registry: null,
    });
  });

  it('reads the release phase timeout in seconds, from 1 to 3600', () => {
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_RELEASE_PHASE_TIMEOUT: '90' }).releasePhaseTimeoutMs).toBe(90_000);
    expect(problemsOf({ DEIS_RELEASE_PHASE_TIMEOUT: '3601' })).toContain('DEIS_RELEASE_PHASE_TIMEOUT must be a whole number from 1 to 3600, not "3601"');
  });

  it('reads the tenant limits and refuses ones out of range', () => {
    const settings = loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_LIMIT_SCALE_PER_TYPE: '20', DEIS_LIMIT_RUN_OUTPUT_BYTES: '4096', DEIS_LIMIT_APP_GRACE_PERIOD: '0' });
    expect(settings.limits).toEqual({ ...DEFAULT_LIMITS, scalePerType: 20, runOutputBytes: 4096, appGracePeriodSeconds: 0 });
    expect(problemsOf({ DEIS_LIMIT_CONTAINERS_PER_APP: '0' })).toContain('DEIS_LIMIT_CONTAINERS_PER_APP must be a whole number from 1 to 10000, not "0"');
    expect(problemsOf({ DEIS_LIMIT_RUNS_PER_USER: 'lots' })).toContain('DEIS_LIMIT_RUNS_PER_USER must be a whole number');
  });

  it('reads every variable', () => {
    const settings = loadControllerSettings({
      DEIS_BUILDER_KEY: KEY,
      DEIS_CONTROLLER_HOST: '0.0.0.0',
      DEIS_CONTROLLER_PORT: '9000',
      DATABASE_URL: 'postgres://deis@db/deis',
      REGISTRATION_MODE: 'enabled',
      DEIS_PLATFORM_DOMAIN: 'apps.example.com',
      DEIS_PLATFORM_NAME: 'staging',
      DEIS_DEPLOY_HOOK_URLS: 'https://hooks.example.com/a?token=t, ,http://127.0.0.1:9/b,',
      DEIS_DEPLOY_HOOK_SECRET_KEY: 'hook-secret',
      DEIS_DEPLOY_TIMEOUT: '45',
      KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '0',
      DEIS_DEPLOY_PROCFILE_MISSING_REMOVE: 'false',
      DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING: 'true',
      DEIS_NODE_LABELS: 'environ=prod, disk=ssd,,empty=',
      DEIS_LOG_LEVEL: 'debug',
      DEIS_BUILDER_HTTP_UPSTREAM: '[::1]:8001',
    });
    expect(settings).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      databaseUrl: 'postgres://deis@db/deis',
      registrationMode: 'enabled',
      platformDomain: 'apps.example.com',
      platformName: 'staging',
      deployHookUrls: ['https://hooks.example.com/a?token=t', 'http://127.0.0.1:9/b'],
      deployHookSecret: 'hook-secret',
      deployTimeoutMs: 45_000,
      gracePeriodSeconds: 0,
      procfileMissingRemove: false,
      rejectIfProcfileMissing: true,
      nodeLabels: { environ: 'prod', disk: 'ssd', empty: '' },
      logLevel: 'debug',
      builderHttpUpstream: { host: '::1', port: 8001 },
      limits: DEFAULT_LIMITS,
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('reads flags as true/false, 1/0, yes/no or on/off in any case', () => {
    const flags = (value: string) => {
      const settings = loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_DEPLOY_PROCFILE_MISSING_REMOVE: value, DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING: value });
      return [settings.procfileMissingRemove, settings.rejectIfProcfileMissing];
    };
    for (const yes of ['1', 'true', 'TRUE', 'yes', 'On']) expect(flags(yes)).toEqual([true, true]);
    for (const no of ['0', 'false', 'False', 'no', 'OFF']) expect(flags(no)).toEqual([false, false]);
    expect(flags('')).toEqual([true, false]);
  });

  it('says what is wrong with each bad value, every problem at once', () => {
    const message = problemsOf({
      DEIS_CONTROLLER_PORT: '70000',
      REGISTRATION_MODE: 'open',
      DEIS_DEPLOY_TIMEOUT: '0',
      KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS: '-1',
      DEIS_DEPLOY_PROCFILE_MISSING_REMOVE: 'Maybe',
      DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING: 'sometimes',
      DEIS_NODE_LABELS: 'environ=prod,gpu',
      DEIS_BUILDER_HTTP_UPSTREAM: 'builder',
    });
    expect(message.split('\n')).toEqual([
      'invalid controller settings:',
      '  REGISTRATION_MODE must be enabled, disabled or admin_only, not "open"',
      '  DEIS_CONTROLLER_PORT must be a whole number from 0 to 65535, not "70000"',
      '  DEIS_DEPLOY_TIMEOUT must be a whole number from 1 to 3600, not "0"',
      '  KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS must be a whole number from 0 to 3600, not "-1"',
      '  DEIS_DEPLOY_PROCFILE_MISSING_REMOVE must be true or false, not "Maybe"',
      '  DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING must be true or false, not "sometimes"',
      '  DEIS_NODE_LABELS must be k=v pairs separated by commas, not "environ=prod,gpu"',
      '  DEIS_BUILDER_HTTP_UPSTREAM must be host:port, not "builder"',
    ]);
  });

  it('takes whole numbers in digits only', () => {
    for (const bad of ['1.5', '0x10', '1e2', ' 30', 'thirty']) {
      expect(problemsOf({ DEIS_DEPLOY_TIMEOUT: bad })).toContain(`DEIS_DEPLOY_TIMEOUT must be a whole number from 1 to 3600, not "${bad}"`);
    }
    expect(problemsOf({ DEIS_DEPLOY_TIMEOUT: '3601' })).toContain('not "3601"');
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_DEPLOY_TIMEOUT: '3600' }).deployTimeoutMs).toBe(3_600_000);
  });

  it('refuses node labels that are not one key=value each', () => {
    for (const bad of ['environ', '=prod', 'a=b=c', 'environ=prod;disk=ssd', 'my key=x']) {
      expect(problemsOf({ DEIS_NODE_LABELS: bad })).toContain(`DEIS_NODE_LABELS must be k=v pairs separated by commas, not "${bad}"`);
    }
  });

  it('refuses hook URLs that are not http(s), without echoing them', () => {
    const message = problemsOf({ DEIS_DEPLOY_HOOK_URLS: 'https://ok.example.com/h,ftp://files.example.com/?token=s3cret,not a url' });
    expect(message).toContain('DEIS_DEPLOY_HOOK_URLS must be http(s) URLs separated by commas; URL 2 is not');
    expect(message).toContain('DEIS_DEPLOY_HOOK_URLS must be http(s) URLs separated by commas; URL 3 is not');
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('URL 1 ');
  });

  it('refuses upstreams without a host or with a port out of range', () => {
    for (const bad of ['builder', ':8001', 'builder:0', 'builder:65536', 'http://builder:8001']) {
      expect(problemsOf({ DEIS_BUILDER_HTTP_UPSTREAM: bad })).toContain(`DEIS_BUILDER_HTTP_UPSTREAM must be host:port, not "${bad}"`);
    }
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_BUILDER_HTTP_UPSTREAM: 'builder.internal:8001' }).builderHttpUpstream).toEqual({ host: 'builder.internal', port: 8001 });
    expect(loadControllerSettings({ DEIS_BUILDER_KEY: KEY, DEIS_CONTROLLER_UPSTREAM: '100.124.0.11:8000' }).controllerUpstream).toEqual({ host: '100.124.0.11', port: 8000 });
    expect(problemsOf({ DEIS_CONTROLLER_UPSTREAM: 'nowhere' })).toContain('DEIS_CONTROLLER_UPSTREAM must be host:port, not "nowhere"');
  });

  it('needs a builder key of at least 16 characters, and never shows it', () => {
    let caught: unknown;
    try {
      loadControllerSettings({ DEIS_BUILDER_KEY: 'short-key' });
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toContain('DEIS_BUILDER_KEY must be set to a secret of at least 16 characters');
    expect((caught as Error).message).not.toContain('short-key');
    expect(() => loadControllerSettings({})).toThrow(SettingsError);
  });
});
