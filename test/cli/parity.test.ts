/**
 * Issue 9: where Deis v2 clients and scripts could tell our platform from the original, as the built CLI shows it.
 * The controller runs on the fake scheduler; what the real engine does is in test/e2e/deis-parity.e2e.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let user: CliUser;

beforeAll(async () => {
  ({ server, user } = await startWithUser('parity'));
  // A one-off `env` prints the environment the engine was given, in its order, as a process without a shell sees it.
  server.controller.scheduler.runHandler = (spec) => ({ exitCode: 0, output: Object.entries(spec.env).map(([key, value]) => `${key}=${value}\n`).join('') });
}, 60_000);
afterAll(async () => server?.close());

const userVariables = (output: string, keys: string[]) =>
  output
    .split('\n')
    .map((line) => line.split('=')[0]!)
    .filter((key) => keys.includes(key));

describe('environment order (item 1)', () => {
  it('passes variables to one-off runs in the order config:set and config:push set them', async () => {
    const app = ['-a', 'ordered'];
    expect((await user.deis(['create', 'ordered', '--no-remote'])).code).toBe(0);
    expect((await user.deis(['pull', 'example/ordered:1', ...app])).code).toBe(0);
    const set = await user.deis(['config:set', 'FOO=null', 'BAR=nil', ...app]);
    expect(set.code, set.stderr).toBe(0);
    const keys = ['FOO', 'BAR', 'ZULU', 'ALPHA', 'MIKE'];
    const first = await user.deis(['run', ...app, 'env']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('FOO=null\n');
    expect(userVariables(first.stdout, keys)).toEqual(['FOO', 'BAR']);

    writeFileSync(join(user.home, '.env'), 'ZULU=1\nALPHA=2\nFOO=again\nMIKE=3\n');
    const pushed = await user.deis(['config:push', ...app]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const second = await user.deis(['run', ...app, 'env']);
    // Keys already set keep their place; the file's new keys follow in the file's order.
    expect(userVariables(second.stdout, keys)).toEqual(['FOO', 'BAR', 'ZULU', 'ALPHA', 'MIKE']);
    expect(second.stdout).toContain('FOO=again\n');
  });
});

describe("the app's event lines in deis logs (item 4)", () => {
  it('prints the lines of apps:create, of a build and of later changes as Deis wrote them', async () => {
    const app = ['-a', 'logged'];
    expect((await user.deis(['create', 'logged', '--no-remote'])).code).toBe(0);
    expect((await user.deis(['pull', 'example/logged:1', ...app])).code).toBe(0);
    expect((await user.deis(['config:set', 'FOO=1', ...app])).code).toBe(0);
    expect((await user.deis(['domains:add', 'logged.example.com', ...app])).code).toBe(0);
    expect((await user.deis(['maintenance:on', ...app])).code).toBe(0);
    const logs = await user.deis(['logs', ...app]);
    expect(logs.code, logs.stderr).toBe(0);
    const events = logs.stdout
      .trim()
      .split('\n')
      .filter((line) => line.includes(' deis[controller]: '));
    for (const line of events) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 deis\[controller\]: INFO \S/);
    expect(events.map((line) => line.replace(/^\S+ deis\[controller\]: INFO /, ''))).toEqual([
      expect.stringMatching(/^config logged-[0-9a-f]{7} updated$/),
      'parity created initial release',
      expect.stringMatching(/^appsettings logged-[0-9a-f]{7} updated$/),
      'domain logged added',
      expect.stringMatching(/^build logged-[0-9a-f]{7} created$/),
      'parity deployed example/logged:1',
      expect.stringMatching(/^config logged-[0-9a-f]{7} updated$/),
      'parity added FOO',
      'domain logged.example.com added',
      expect.stringMatching(/^appsettings logged-[0-9a-f]{7} updated$/),
    ]);
  });
});

describe('a readiness check that never passes (item 3)', () => {
  it('exits 0, lists the probe, and says the new containers are not ready yet while the old one serves', async () => {
    const app = ['-a', 'probed'];
    const { scheduler } = server.controller;
    // The app listens on 80: a check of any other port never passes.
    scheduler.defineImage('example/probed:1', [80]);
    scheduler.behaviour = () => ({ ready: (check) => check.kind === 'exec' || check.port === 80 });
    expect((await user.deis(['create', 'probed', '--no-remote'])).code).toBe(0);
    expect((await user.deis(['pull', 'example/probed:1', ...app])).code).toBe(0);

    const set = await user.deis(['healthchecks:set', 'readiness', 'httpGet', '1500', ...app]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Applying readinessProbe healthcheck... done\n');
    expect(set.stdout).toContain('HTTP GET Probe: Path="/" Port=1500 HTTPHeaders=[]');
    expect(set.stderr).toMatch(/^! {4}v3 is released, but its new containers are not ready yet \(probed-cmd-\S+ did not pass the readiness check within \d+ s\); the previous containers keep serving/m);

    const listed = await user.deis(['healthchecks:list', ...app]);
    expect(listed.stdout).toContain('HTTP GET Probe: Path="/" Port=1500 HTTPHeaders=[]');
    const ps = await user.deis(['ps', ...app]);
    expect(ps.stdout).toMatch(/^probed-cmd-\S+ starting \(v3\)$/m);
    expect(ps.stdout).toMatch(/^probed-cmd-\S+ up \(v2\)$/m);
    expect((await user.deis(['releases', ...app])).stdout).toMatch(/^v3\s/m);
    expect((await user.deis(['logs', ...app])).stdout).toMatch(/deis\[controller\]: INFO v3 is released, but its new containers are not ready yet/);
  });
});
