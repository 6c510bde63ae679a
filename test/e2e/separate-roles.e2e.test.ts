/**
 * The roles as separate processes (ADR 0016): two `platform.js controller` on one PostgreSQL, a `platform.js router`
 * against the first and a `platform.js builder` against the second, each with a data directory of its own and the
 * shared secrets given in the environment. A Dockerfile app pushed to the builder is served through the router; the
 * controller leading the reconciler is killed and the other takes the lead.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredUserWithKey } from './drivers/cli.ts';
import { sampleAppRepo } from './drivers/git.ts';
import { pollRouter } from './drivers/http.ts';
import { startSeparateRoles } from './drivers/roles.ts';
import type { SeparateRoles } from './drivers/roles.ts';

const postgresUrl = process.env.DEIS_TEST_POSTGRES_URL;

describe.skipIf(!postgresUrl)('the roles as separate processes on one PostgreSQL', () => {
  let roles: SeparateRoles;

  beforeAll(async () => {
    roles = await startSeparateRoles(postgresUrl!, (urls) => ({ router: urls.controller1, builder: urls.controller2 }));
  });

  afterAll(async () => {
    await roles?.stop();
  });

  it('serves a Dockerfile app pushed to the builder through the router, with one controller leading', async () => {
    const user = await registeredUserWithKey({ controllerUrl: `http://deis.localhost:${roles.ports.router}`, sshPort: roles.ports.ssh });
    const repo = await sampleAppRepo('node-hello', user.env);
    roles.expectOk(await user.deis(['create', 'split'], { cwd: repo.dir }));
    roles.expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${roles.ports.ssh}/split.git`]));
    const pushed = roles.expectOk(await repo.git(['push', 'deis', 'main']));
    expect(pushed.stdout + pushed.stderr).toContain('Done, split:v2 deployed to Workflow');
    const response = await pollRouter(roles.ports.router, 'split.localhost', (r) => r.status === 200, { timeoutMs: 20_000 });
    expect(response.status, roles.outputs()).toBe(200);
    expect(response.body).toContain('Release v2');

    const leaders = [roles.controller1, roles.controller2].filter((c) => c.output().includes('platform: leading:'));
    expect(leaders.map((c) => c.name), roles.outputs()).toHaveLength(1);
  });

  it('hands the lead to the other controller when the leader is killed, and the app keeps answering', async () => {
    const leader = [roles.controller1, roles.controller2].find((c) => c.output().includes('platform: leading:'))!;
    const other = leader === roles.controller1 ? roles.controller2 : roles.controller1;
    leader.child.kill('SIGKILL');
    await roles.until('the other controller leading', () => other.output().includes('platform: leading:'), 15_000);
    const response = await pollRouter(roles.ports.router, 'split.localhost', (r) => r.status === 200, { timeoutMs: 10_000 });
    expect(response.status).toBe(200);
  });
});
