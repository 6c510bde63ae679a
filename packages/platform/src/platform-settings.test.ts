import { describe, expect, it } from 'vitest';
import { loadControllerSettings } from '@deis/controller/settings';
import { loadPlatformSettings } from './platform-settings.ts';
import { controllerEnvironment } from './roles.ts';

/** The message `env` makes loadPlatformSettings throw. */
function problemsOf(env: Record<string, string>): string {
  let caught: unknown;
  try {
    loadPlatformSettings(env, '/srv/deis');
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(Error);
  return (caught as Error).message;
}

describe('loadPlatformSettings', () => {
  it('has a default for everything, relative to the working directory', () => {
    expect(loadPlatformSettings({}, '/srv/deis')).toMatchObject({
      dataDir: '/srv/deis/.data',
      platformDomain: 'localhost',
      platformName: 'deis',
      controllerPort: 8000,
      routerHttpPort: 80,
      routerHttpsPort: 443,
      routerConnectTimeoutSeconds: 30,
      builderSshPort: 2222,
      builderHttpPort: 8001,
      networkName: 'deis',
      networkSubnet: '100.64.0.0/16',
      manageHostsFile: true,
      cliLink: '/usr/local/bin/deis',
    });
  });

  it('limits containers and builds by default, and reads the limits and the link-local switch', () => {
    expect(loadPlatformSettings({}, '/srv/deis')).toMatchObject({
      containerMemoryBytes: 512 * 1024 ** 2,
      containerPidsLimit: 1024,
      buildMemoryBytes: 2 * 1024 ** 3,
      buildCpus: 2,
      buildPidsLimit: 4096,
      blockLinkLocal: true,
    });
    const env = {
      DEIS_CONTAINER_MEMORY_LIMIT: '0',
      DEIS_CONTAINER_PIDS_LIMIT: '200',
      DEIS_BUILD_MEMORY_LIMIT: '3g',
      DEIS_BUILD_CPU_LIMIT: '0.5',
      DEIS_BUILD_PIDS_LIMIT: '300',
      DEIS_BLOCK_LINK_LOCAL: 'false',
    };
    expect(loadPlatformSettings(env, '/srv/deis')).toMatchObject({
      containerMemoryBytes: null,
      containerPidsLimit: 200,
      buildMemoryBytes: 3 * 1024 ** 3,
      buildCpus: 0.5,
      buildPidsLimit: 300,
      blockLinkLocal: false,
    });
    expect(loadPlatformSettings({ DEIS_CONTAINER_MEMORY_LIMIT: '256M' }, '/srv/deis').containerMemoryBytes).toBe(256 * 1024 ** 2);
    expect(problemsOf({ DEIS_CONTAINER_MEMORY_LIMIT: '1M' })).toMatch(/DEIS_CONTAINER_MEMORY_LIMIT must be a size of at least 6M/);
    expect(problemsOf({ DEIS_BUILD_MEMORY_LIMIT: '0' })).toMatch(/DEIS_BUILD_MEMORY_LIMIT must be a size/);
    expect(problemsOf({ DEIS_BUILD_CPU_LIMIT: 'all' })).toMatch(/DEIS_BUILD_CPU_LIMIT must be a number of CPU cores/);
    expect(problemsOf({ DEIS_CONTAINER_PIDS_LIMIT: '0' })).toMatch(/DEIS_CONTAINER_PIDS_LIMIT must be a whole number/);
  });

  it('reads every variable', () => {
    const settings = loadPlatformSettings(
      {
        DEIS_DATA_DIR: 'state',
        DEIS_PLATFORM_DOMAIN: 'apps.example.com',
        DEIS_PLATFORM_NAME: 'staging',
        DEIS_CONTROLLER_PORT: '9000',
        DEIS_ROUTER_HTTP_PORT: '8080',
        DEIS_ROUTER_HTTPS_PORT: '8443',
        DEIS_ROUTER_CONNECT_TIMEOUT: '2',
        DEIS_BUILDER_SSH_PORT: '2022',
        DEIS_BUILDER_HTTP_PORT: '9001',
        DEIS_NETWORK: 'staging-net',
        DEIS_NETWORK_SUBNET: '100.100.4.0/24',
        DEIS_CLI_LINK: '/opt/bin/deis',
      },
      '/srv/deis',
    );
    expect(settings).toMatchObject({
      dataDir: '/srv/deis/state',
      platformDomain: 'apps.example.com',
      platformName: 'staging',
      controllerPort: 9000,
      routerHttpPort: 8080,
      routerHttpsPort: 8443,
      routerConnectTimeoutSeconds: 2,
      builderSshPort: 2022,
      builderHttpPort: 9001,
      networkName: 'staging-net',
      networkSubnet: '100.100.4.0/24',
      // Only the default `localhost` needs /etc/hosts.
      manageHostsFile: false,
      cliLink: '/opt/bin/deis',
    });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(loadPlatformSettings({ DEIS_CLI_LINK: '' }, '/srv/deis').cliLink).toBeNull();
  });

  it('reads DEIS_MANAGE_HOSTS_FILE as a flag over the default of the domain', () => {
    const manage = (env: Record<string, string>) => loadPlatformSettings(env, '/srv/deis').manageHostsFile;
    expect(manage({ DEIS_MANAGE_HOSTS_FILE: '0' })).toBe(false);
    expect(manage({ DEIS_MANAGE_HOSTS_FILE: 'false' })).toBe(false);
    expect(manage({ DEIS_MANAGE_HOSTS_FILE: 'true', DEIS_PLATFORM_DOMAIN: 'deis.test' })).toBe(true);
    expect(manage({ DEIS_MANAGE_HOSTS_FILE: 'YES', DEIS_PLATFORM_DOMAIN: 'deis.test' })).toBe(true);
    expect(problemsOf({ DEIS_MANAGE_HOSTS_FILE: 'sometimes' })).toContain('DEIS_MANAGE_HOSTS_FILE must be true or false, not "sometimes"');
  });

  it('says what is wrong with each bad value, every problem at once', () => {
    const message = problemsOf({
      DEIS_PLATFORM_DOMAIN: 'Apps.Example.com',
      DEIS_CONTROLLER_PORT: '0',
      DEIS_ROUTER_HTTP_PORT: '65536',
      DEIS_BUILDER_SSH_PORT: 'ssh',
      DEIS_NETWORK_SUBNET: '10.0.0.0/16',
    });
    expect(message.split('\n')).toEqual([
      'invalid platform settings:',
      '  DEIS_CONTROLLER_PORT must be a port number, not "0"',
      '  DEIS_ROUTER_HTTP_PORT must be a port number, not "65536"',
      '  DEIS_BUILDER_SSH_PORT must be a port number, not "ssh"',
      '  DEIS_PLATFORM_DOMAIN is not a domain name: "Apps.Example.com"',
      `  DEIS_NETWORK_SUBNET must be inside 100.64.0.0/10 (it keeps apps off the private ranges users' LANs use), not "10.0.0.0/16"`,
    ]);
  });

  it('takes the buildpack stacks to pull as a pair, or makes them', () => {
    expect(loadPlatformSettings({}, '/srv/deis').stackPull).toBeNull();
    expect(loadPlatformSettings({ DEIS_STACK_BUILD_IMAGE: 'registry.example/stack-build:1', DEIS_STACK_RUN_IMAGE: 'registry.example/stack-run:1' }, '/srv/deis').stackPull).toEqual({
      build: 'registry.example/stack-build:1',
      run: 'registry.example/stack-run:1',
    });
    expect(problemsOf({ DEIS_STACK_RUN_IMAGE: 'registry.example/stack-run:1' })).toContain(
      'DEIS_STACK_BUILD_IMAGE and DEIS_STACK_RUN_IMAGE go together: set both (the stack images to pull) or neither (the platform makes them)',
    );
  });

  it('takes ports in digits only', () => {
    for (const bad of ['80.5', '0x50', '8e1', ' 80', '-80']) expect(problemsOf({ DEIS_ROUTER_HTTP_PORT: bad })).toContain(`DEIS_ROUTER_HTTP_PORT must be a port number, not "${bad}"`);
    expect(loadPlatformSettings({ DEIS_ROUTER_HTTP_PORT: '65535' }, '/srv/deis').routerHttpPort).toBe(65535);
  });

  it('keeps the app network inside 100.64.0.0/10, whole', () => {
    for (const good of ['100.64.0.0/10', '100.64.0.0/16', '100.127.255.0/24', '100.90.1.0/30']) {
      expect(loadPlatformSettings({ DEIS_NETWORK_SUBNET: good }, '/srv/deis').networkSubnet).toBe(good);
    }
    // Outside, larger than the range, with a bad octet, or too small for a container.
    for (const bad of ['100.128.0.0/16', '100.63.0.0/16', '192.168.0.0/16', '100.64.0.0/8', '100.64.0.0/9', '100.64.300.0/24', '100.64.0.0/31', '100.64.0.0', 'deis']) {
      expect(problemsOf({ DEIS_NETWORK_SUBNET: bad })).toContain(`DEIS_NETWORK_SUBNET must be inside 100.64.0.0/10 (it keeps apps off the private ranges users' LANs use), not "${bad}"`);
    }
  });

  it("has the HPA's autoscaling timing by default, and reads shorter windows for tests", () => {
    expect(loadPlatformSettings({}, '/srv/deis').autoscale).toEqual({ syncPeriodSeconds: 15, scaleUpWindowSeconds: 0, scaleDownWindowSeconds: 300 });
    const short = loadPlatformSettings({ DEIS_AUTOSCALE_SYNC_PERIOD: '2', DEIS_AUTOSCALE_SCALE_UP_WINDOW: '5', DEIS_AUTOSCALE_SCALE_DOWN_WINDOW: '0' }, '/srv/deis');
    expect(short.autoscale).toEqual({ syncPeriodSeconds: 2, scaleUpWindowSeconds: 5, scaleDownWindowSeconds: 0 });
    expect(problemsOf({ DEIS_AUTOSCALE_SYNC_PERIOD: '0' })).toContain('DEIS_AUTOSCALE_SYNC_PERIOD must be a whole number of seconds from 1 to 3600, not "0"');
    expect(problemsOf({ DEIS_AUTOSCALE_SCALE_DOWN_WINDOW: '3601' })).toContain('DEIS_AUTOSCALE_SCALE_DOWN_WINDOW must be a whole number of seconds from 0 to 3600');
    expect(problemsOf({ DEIS_AUTOSCALE_SCALE_UP_WINDOW: '1.5' })).toContain('DEIS_AUTOSCALE_SCALE_UP_WINDOW must be');
  });
});

describe('the controller settings the platform derives', () => {
  it('carries the controller variables of the platform environment (hook URLs, node labels, flags) and sets its own ports, domain and name', () => {
    const platform = loadPlatformSettings({ DEIS_PLATFORM_DOMAIN: 'apps.example.com', DEIS_PLATFORM_NAME: 'staging', DEIS_CONTROLLER_PORT: '9000', DEIS_BUILDER_HTTP_PORT: '9001' }, '/srv/deis');
    const env = {
      DEIS_DEPLOY_HOOK_URLS: 'https://hooks.example.com/a',
      DEIS_NODE_LABELS: 'environ=prod',
      DEIS_DEPLOY_PROCFILE_MISSING_REMOVE: 'false',
      DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING: 'on',
      DEIS_DEPLOY_TIMEOUT: '60',
      // The platform's own values win over stray controller variables in its environment.
      DEIS_CONTROLLER_PORT: '1234',
      DEIS_PLATFORM_NAME: 'other',
    };
    const controller = loadControllerSettings(controllerEnvironment(platform, 'builder-key-0123456789', env));
    expect(controller).toMatchObject({
      host: '127.0.0.1',
      port: 9000,
      databaseUrl: '/srv/deis/.data/controller.sqlite',
      platformDomain: 'apps.example.com',
      platformName: 'staging',
      builderKey: 'builder-key-0123456789',
      builderHttpUpstream: { host: '127.0.0.1', port: 9001 },
      deployHookUrls: ['https://hooks.example.com/a'],
      nodeLabels: { environ: 'prod' },
      procfileMissingRemove: false,
      rejectIfProcfileMissing: true,
      deployTimeoutMs: 60_000,
    });
  });
});
