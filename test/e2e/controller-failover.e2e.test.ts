/**
 * A controller killed during a deploy (ADR 0021): two `platform.js controller` on one PostgreSQL, a router and a
 * builder each given both controllers (DEIS_CONTROLLER_URL with commas, the one to be killed first). A push whose
 * release phase is running when that controller is killed completes: the builder sends its hook to the other, which
 * finishes the same release (no second one), the router follows the other's table, and the app answers every request
 * meanwhile, first from the previous release, then from the new one.
 * @module
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredUserWithKey } from './drivers/cli.ts';
import { sampleAppRepo } from './drivers/git.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { startSeparateRoles } from './drivers/roles.ts';
import type { SeparateRoles } from './drivers/roles.ts';

const postgresUrl = process.env.DEIS_TEST_POSTGRES_URL;

describe.skipIf(!postgresUrl)('a controller killed during a deploy', () => {
  let roles: SeparateRoles;
  let store: pg.Client;

  beforeAll(async () => {
    // Both go to controller 2 first: the one this test kills.
    roles = await startSeparateRoles(postgresUrl!, (urls) => {
      const both = `${urls.controller2},${urls.controller1}`;
      return { router: both, builder: both };
    });
    store = new pg.Client({ connectionString: roles.databaseUrl });
    await store.connect();
  });

  afterAll(async () => {
    await store?.end();
    await roles?.stop();
  });

  it('completes the push through the other controller, one release, with no failed request', async () => {
    const user = await registeredUserWithKey({ controllerUrl: `http://deis.localhost:${roles.ports.router}`, sshPort: roles.ports.ssh });
    const repo = await sampleAppRepo('node-hello', user.env);
    roles.expectOk(await user.deis(['create', 'failover'], { cwd: repo.dir }));
    roles.expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${roles.ports.ssh}/failover.git`]));
    roles.expectOk(await repo.git(['push', 'deis', 'main']));
    expect((await pollRouter(roles.ports.router, 'failover.localhost', (r) => r.status === 200, { timeoutMs: 20_000 })).body).toContain('Release v2');

    // Requests all along, one after another.
    const failures: string[] = [];
    let served = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        try {
          const answer = await viaRouter(roles.ports.router, 'failover.localhost', '/', { timeoutMs: 10_000 });
          if (answer.status === 200) served++;
          else failures.push(`${answer.status} ${answer.body.slice(0, 200)}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();

    // The next push has a release phase long enough to kill its controller during it.
    await repo.commitFile('Procfile', 'web: node /app/server.js\nrelease: sleep 6\n', 'a release phase');
    const pushing = repo.git(['push', 'deis', 'main']);
    await roles.until('v3 deploying', async () => (await store.query("SELECT 1 FROM releases WHERE version = 3 AND deploying = 1")).rowCount === 1, 120_000);
    roles.controller2.child.kill('SIGKILL');
    const killedAt = Date.now();
    const pushed = roles.expectOk(await pushing);
    expect(pushed.stdout + pushed.stderr).toContain('Done, failover:v3 deployed to Workflow');
    // The release phase again (6 s) and the rollout; not the 15 s a rollout waits at most for a router: the dead
    // controller's routers are not waited for, the router now polling the living one confirms.
    expect(Date.now() - killedAt).toBeLessThan(14_000);

    const after = await pollRouter(roles.ports.router, 'failover.localhost', (r) => r.body.includes('Release v3'), { timeoutMs: 30_000 });
    expect(after.body, roles.outputs()).toContain('Release v3');
    loading = false;
    await load;
    expect(failures, roles.outputs()).toEqual([]);
    expect(served).toBeGreaterThan(10);
    const { rows } = await store.query<{ version: number; failed: number }>("SELECT version, failed FROM releases r JOIN apps a ON a.uuid = r.app_uuid WHERE a.id = 'failover' ORDER BY version");
    expect(rows.map((r) => [r.version, r.failed])).toEqual([[1, 0], [2, 0], [3, 0]]);
    // The one left leads (it started first, so it led all along).
    expect(roles.controller1.output()).toContain('platform: leading:');
  });
});
