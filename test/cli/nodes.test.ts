import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser, registerUser, startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let admin: CliUser;

beforeAll(async () => {
  // The first user registered is an administrator.
  ({ server, user: admin } = await startWithUser('nodeadmin'));
  server.controller.scheduler.nodes = [
    { id: 'm1', hostname: 'manager-1', address: '10.0.0.5', state: 'ready', availability: 'active', role: 'manager', labels: {} },
    { id: 'w1', hostname: 'worker-1', address: '10.0.0.6', state: 'down', availability: 'drain', role: 'worker', labels: { zone: 'a', disk: 'ssd' } },
  ];
}, 60_000);
afterAll(async () => server?.close());

describe('nodes:list (an extension)', () => {
  it('prints the nodes as a table, also as `deis nodes`', async () => {
    const listed = await admin.deis(['nodes:list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toBe(
      [
        '=== Nodes',
        'Hostname   Role     State  Availability  Address   Containers  Labels',
        'manager-1  manager  ready  active        10.0.0.5  0',
        'worker-1   worker   down   drain         10.0.0.6  0           disk=ssd,zone=a',
        '',
      ].join('\n'),
    );
    expect((await admin.deis(['nodes'])).stdout).toBe(listed.stdout);
    const limited = await admin.deis(['nodes', '-l', '1']);
    expect(limited.stdout.split('\n').slice(0, 3)).toEqual(['=== Nodes (1 of 2)', 'Hostname   Role     State  Availability  Address   Containers  Labels', 'manager-1  manager  ready  active        10.0.0.5  0']);
  });

  it('gives the nodes as JSON under --json', async () => {
    const json = await admin.deis(['nodes', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      { id: 'm1', hostname: 'manager-1', address: '10.0.0.5', state: 'ready', availability: 'active', role: 'manager', labels: {}, containers: 0 },
      { id: 'w1', hostname: 'worker-1', address: '10.0.0.6', state: 'down', availability: 'drain', role: 'worker', labels: { zone: 'a', disk: 'ssd' }, containers: 0 },
    ]);
  });

  it('is refused to a user who is not an administrator', async () => {
    const user = newCliUser();
    expect((await registerUser(user, server.url, 'plainuser')).code).toBe(0);
    const refused = await user.deis(['nodes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('You do not have permission to perform this action.');
  });
});
