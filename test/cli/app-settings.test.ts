import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let user: CliUser;

beforeAll(async () => {
  // The one node's labels, which `tags:set` must match (DEIS_NODE_LABELS).
  ({ server, user } = await startWithUser('setter', { nodeLabels: { environ: 'prod', disk: 'ssd' } }));
  await user.deis(['create', 'knobs', '--no-remote']);
}, 60_000);
afterAll(async () => server?.close());

const app = ['-a', 'knobs'];

describe('app settings', () => {
  it('turns maintenance mode on and off', async () => {
    expect((await user.deis(['maintenance:info', ...app])).stdout.trim()).toBe('Maintenance mode is off.');
    expect((await user.deis(['maintenance:on', ...app])).stdout).toContain('Enabling maintenance mode for knobs... done');
    expect((await user.deis(['maintenance', ...app])).stdout.trim()).toBe('Maintenance mode is on.');
    expect(JSON.parse((await user.deis(['maintenance:info', ...app, '--json'])).stdout)).toEqual({ maintenance: true });
    const again = await user.deis(['maintenance:on', ...app]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('changed nothing');
    expect((await user.deis(['maintenance:off', ...app])).stdout).toContain('Disabling maintenance mode for knobs... done');
  });

  it('disables and enables routing', async () => {
    expect((await user.deis(['routing:info', ...app])).stdout.trim()).toBe('Routing is enabled.');
    expect((await user.deis(['routing:disable', ...app])).stdout).toContain('Disabling routing for knobs... done');
    expect((await user.deis(['routing', ...app])).stdout.trim()).toBe('Routing is disabled.');
    expect((await user.deis(['routing:enable', ...app])).code).toBe(0);
  });

  it('enforces TLS', async () => {
    expect((await user.deis(['tls:enable', ...app])).stdout).toContain('Enabling https-only requests for knobs... done');
    const info = await user.deis(['tls', ...app]);
    expect(info.stdout).toContain('=== knobs TLS');
    expect(info.stdout).toContain('HTTPS Enforced: true');
    expect((await user.deis(['tls:disable', ...app])).code).toBe(0);
    expect((await user.deis(['tls:info', ...app])).stdout).toContain('HTTPS Enforced: false');
  });

  it('manages the whitelist', async () => {
    expect((await user.deis(['whitelist:add', '10.1.2.3,192.168.0.0/16', ...app])).stdout).toContain('Adding 10.1.2.3,192.168.0.0/16 to knobs whitelist... done');
    const list = await user.deis(['whitelist', ...app]);
    expect(list.stdout).toContain('=== knobs Whitelisted Addresses');
    expect(list.stdout).toContain('10.1.2.3');
    expect((await user.deis(['whitelist:remove', '10.1.2.3', ...app])).stdout).toContain('Removing 10.1.2.3 from knobs whitelist... done');
    expect(JSON.parse((await user.deis(['whitelist', ...app, '--json'])).stdout)).toEqual(['192.168.0.0/16']);
    const bad = await user.deis(['whitelist:add', 'not-an-address', ...app]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: .*not-an-address/m);
  });

  it('sets and unsets labels', async () => {
    expect((await user.deis(['labels', ...app])).stdout).toContain('No labels found.');
    expect((await user.deis(['labels:set', 'team=ops', 'tier=gold', ...app])).stdout).toContain('Applying labels on knobs... done');
    const list = await user.deis(['labels:list', ...app]);
    expect(list.stdout).toContain('=== knobs Label');
    expect(list.stdout).toMatch(/^team: +ops$/m);
    expect((await user.deis(['labels:unset', 'team', ...app])).stdout).toContain('Removing labels on knobs... done');
    expect(JSON.parse((await user.deis(['labels', ...app, '--json'])).stdout)).toEqual({ tier: 'gold' });
  });

  it('sets and unsets autoscale rules', async () => {
    const set = await user.deis(['autoscale:set', 'web', '--min=2', '--max=5', '--cpu-percent=60', ...app]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('Applying autoscale settings for process type web on knobs... done');
    const list = await user.deis(['autoscale', ...app]);
    expect(list.stdout).toContain('=== knobs Autoscale');
    expect(list.stdout).toContain('Min Replicas: 2');
    expect(list.stdout).toContain('CPU: 60%');
    expect((await user.deis(['autoscale:unset', 'web', ...app])).stdout).toContain('Removing autoscale for process type web on knobs... done');
    expect((await user.deis(['autoscale:set', 'web', '--min=2', ...app])).code).toBe(2);
  });
});

describe('config maps', () => {
  it('sets and unsets limits', async () => {
    const before = await user.deis(['limits', ...app]);
    expect(before.stdout).toContain('=== knobs Limits');
    expect(before.stdout).toMatch(/--- Memory\nUnlimited/);
    const set = await user.deis(['limits:set', 'web=64M', ...app]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('Applying limits... done');
    expect(set.stdout).toMatch(/^web {2}64M$/m);
    expect((await user.deis(['limits:set', '--cpu', 'web=500m', ...app])).stdout).toMatch(/--- CPU\nweb {2}500m/);
    expect(JSON.parse((await user.deis(['limits', ...app, '--json'])).stdout)).toEqual({ memory: { web: '64M' }, cpu: { web: '500m' } });
    expect((await user.deis(['limits:unset', 'web', ...app])).stdout).toMatch(/--- Memory\nUnlimited/);
    const bad = await user.deis(['limits:set', 'web=lots', ...app]);
    expect(bad.code).toBe(1);
  });

  it('sets and unsets tags that match the node labels', async () => {
    const set = await user.deis(['tags:set', 'environ=prod', 'disk=ssd', ...app]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('Applying tags... done');
    expect(set.stdout).toMatch(/\n=== knobs Tags\ndisk +ssd\nenviron +prod\n$/);
    const unset = await user.deis(['tags:unset', 'disk', ...app]);
    expect(unset.stderr).toBe('');
    expect(unset.code).toBe(0);
    expect(unset.stdout).toMatch(/\n=== knobs Tags\nenviron +prod\n$/);
    expect(JSON.parse((await user.deis(['tags', ...app, '--json'])).stdout)).toEqual({ environ: 'prod' });
    expect((await user.deis(['tags:unset', 'environ', ...app])).code).toBe(0);
    expect(JSON.parse((await user.deis(['tags', ...app, '--json'])).stdout)).toEqual({});
  });

  it('refuses tags no node has, and keeps the tags as they were', async () => {
    const refused = await user.deis(['tags:set', 'environ=staging', ...app]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('No nodes matched the provided labels: environ=staging');
    expect(refused.stdout).not.toContain('done');
    expect(JSON.parse((await user.deis(['tags', ...app, '--json'])).stdout)).toEqual({});
  });

  it('sets registry information (which needs PORT)', async () => {
    const refused = await user.deis(['registry:set', 'username=bob', ...app]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('PORT needs to be set in the config when using a private registry');
    await user.deis(['config:set', 'PORT=8080', ...app]);
    const set = await user.deis(['registry:set', 'username=bob', 'password=pw', ...app]);
    expect(set.stdout).toContain('=== knobs Registry');
    expect(set.stdout).toMatch(/^username {2}bob$/m);
    const unset = await user.deis(['registry:unset', 'username', 'password', ...app]);
    expect(unset.stderr).toBe('');
    expect(unset.code).toBe(0);
    expect(unset.stdout).toMatch(/\n=== knobs Registry\n$/);
    expect(unset.stdout).not.toContain('bob');
    expect(JSON.parse((await user.deis(['registry', ...app, '--json'])).stdout)).toEqual({});
  });

  it('sets, lists and unsets healthchecks', async () => {
    const set = await user.deis(['healthchecks:set', 'liveness', 'httpGet', '8080', '--path=/healthz', '--headers', 'X-Probe:yes', ...app]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('Applying livenessProbe healthcheck... done');
    expect(set.stdout).toContain('=== knobs Healthchecks');
    expect(set.stdout).toContain('HTTP GET Probe: Path="/healthz" Port=8080 HTTPHeaders=[X-Probe=yes] Initial Delay=50s Timeout=50s Period=10s #Success=1 #Failure=3');
    const exec = await user.deis(['healthchecks:set', 'readiness', 'exec', '--type=web', ...app, '--', '/bin/cat', '/tmp/ready']);
    expect(exec.code).toBe(0);
    const json = JSON.parse((await user.deis(['healthchecks', ...app, '--json'])).stdout) as Record<string, { livenessProbe?: unknown; readinessProbe?: { exec: { command: string[] } } }>;
    expect(json['web/cmd']?.livenessProbe).toBeDefined();
    expect(json.web?.readinessProbe?.exec.command).toEqual(['/bin/cat', '/tmp/ready']);
    expect((await user.deis(['healthchecks:set', 'readiness', 'tcpSocket', '8080', ...app])).code).toBe(0);
    const unset = await user.deis(['healthchecks:unset', 'liveness', ...app]);
    expect(unset.stdout).toContain('Removing healthchecks... done');
    expect(unset.stdout).not.toContain('Path="/healthz"');
    // the readiness probe of the same process type stays
    expect(unset.stdout).toMatch(/^web\/cmd:\n--- Liveness\nNo liveness probe configured\.\n\n--- Readiness\nTCP Socket Probe: Port=8080 /m);
    expect((await user.deis(['healthchecks:unset', 'liveness', ...app])).code).toBe(1);
    expect((await user.deis(['healthchecks:set', 'sideways', 'httpGet', '80', ...app])).code).toBe(2);
  });
});
