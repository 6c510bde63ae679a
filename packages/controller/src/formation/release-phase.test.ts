import type { ContainerSpec, RunResult } from '@deis/scheduler/scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControllerSettings } from '../settings.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { LABEL } from './container-spec.ts';
import { whenAppIdle } from './formation-state.ts';

const IMAGE = (n: number) => `myapp:git-0000000${n}`;
const push = (n: number, procfile: Record<string, string>) => ({ receive_user: 'alice', receive_repo: 'myapp', image: IMAGE(n), sha: `0000000${n}`, procfile, dockerfile: 'true' });

describe('release phase: a Procfile `release:` command runs once per new release, before its containers', () => {
  let controller: TestController;
  let alice: string;
  /** Each run's spec and the app's containers' releases at the moment it ran. */
  let runs: { spec: ContainerSpec; containersOf: string[] }[];
  let answer: (spec: ContainerSpec) => RunResult | Promise<RunResult>;

  async function start(overrides: Partial<ControllerSettings> = {}): Promise<void> {
    controller = await startTestController(overrides);
    alice = await controller.user('alice');
    await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'myapp' } });
    for (const n of [1, 2, 3]) controller.scheduler.defineImage(IMAGE(n), [5000]);
    runs = [];
    answer = () => ({ exitCode: 0, output: 'migrating\nmigrated\n' });
    controller.scheduler.runHandler = async (spec) => {
      const containers = await controller.scheduler.list({ [LABEL.app]: 'myapp' });
      runs.push({ spec, containersOf: containers.filter((c) => c.labels[LABEL.type] !== 'run').map((c) => c.labels[LABEL.release]!) });
      return answer(spec);
    };
  }
  afterEach(async () => controller.close());

  const build = async (n: number, procfile: Record<string, string>, headers: Record<string, string> = {}) =>
    controller.call('POST', '/v2/hooks/build/', { builder: true, body: push(n, procfile), headers });
  const serving = async () => {
    await whenAppIdle(controller.deps, 'myapp');
    const containers = await controller.scheduler.list({ [LABEL.app]: 'myapp' });
    return containers.map((c) => `${c.labels[LABEL.type]}.${c.labels[LABEL.release]}`).sort();
  };
  const release = async (version: number) => (await controller.call('GET', `/v2/apps/myapp/releases/v${version}/`, { token: alice })).json as { failed: boolean; summary: string };
  const logs = async () => (await controller.call('GET', '/v2/apps/myapp/logs', { token: alice })).body;

  describe('with the default settings', () => {
    beforeEach(async () => start());

    it('runs the command as a one-off container of the new release while only the previous release has containers', async () => {
      expect((await build(1, { web: 'serve' })).status).toBe(200);
      expect(runs).toHaveLength(0);
      expect((await build(2, { web: 'serve', release: './migrate' })).json).toEqual({ release: { version: 3 } });
      expect(runs).toHaveLength(1);
      const [{ spec, containersOf }] = runs as [(typeof runs)[0]];
      // Before the switch: the old release's web container, none of v3's.
      expect(containersOf).toEqual(['v2']);
      expect(spec.image).toBe(IMAGE(2));
      expect(spec.name).toMatch(/^myapp-run-[a-z0-9]{5}$/);
      expect(spec.entrypoint).toEqual(['/bin/sh', '-c']);
      expect(spec.command).toEqual(['./migrate']);
      expect(spec.labels).toMatchObject({ [LABEL.app]: 'myapp', [LABEL.type]: 'run', [LABEL.release]: 'v3' });
      expect(spec.env).toMatchObject({ WORKFLOW_RELEASE: 'v3', PORT: '5000' });
      expect(await serving()).toEqual(['web.v3']);
      // `release` is no process type: no container, not in the structure.
      const app = (await controller.call('GET', '/v2/apps/myapp/', { token: alice })).json as { structure: Record<string, number> };
      expect(app.structure).toEqual({ web: 1 });
      const text = await logs();
      expect(text).toContain("v3 release phase started: ");
      expect(text).toMatch(/ myapp\[release\.v3\.[a-z0-9]{5}\]: migrating\n/);
      expect(text).toMatch(/ myapp\[release\.v3\.[a-z0-9]{5}\]: migrated\n/);
      expect(text).toContain('v3 release phase succeeded');
    });

    it('runs it again for a config change with the new config, and for a rollback, as Heroku does', async () => {
      await build(1, { web: 'serve', release: './migrate' });
      expect((await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { DATABASE: 'next' } } })).status).toBe(201);
      expect(runs.map((r) => [r.spec.labels[LABEL.release], r.spec.env.DATABASE])).toEqual([['v2', undefined], ['v3', 'next']]);
      expect((await controller.call('POST', '/v2/apps/myapp/releases/rollback/', { token: alice, body: { version: 2 } })).status).toBe(201);
      expect(runs.map((r) => r.spec.labels[LABEL.release])).toEqual(['v2', 'v3', 'v4']);
      expect(runs[2]!.spec.env.DATABASE).toBeUndefined();
      // Scaling and restarts make no release: no release phase.
      expect((await controller.call('POST', '/v2/apps/myapp/scale/', { token: alice, body: { web: 2 } })).status).toBe(204);
      expect(runs).toHaveLength(3);
    });

    it('fails the release on a non-zero exit: the push hears why and the previous release keeps serving', async () => {
      await build(1, { web: 'serve' });
      answer = () => ({ exitCode: 3, output: 'migrating\nerror: relation "users" already exists\n' });
      const response = await build(2, { web: 'serve', release: './migrate' });
      expect(response.status).toBe(400);
      const detail = (response.json as { detail: string }).detail;
      expect(detail).toContain("release phase failed: the release command './migrate' of v3 exited with code 3; v3 was not deployed");
      expect(detail).toContain('error: relation "users" already exists');
      expect(await release(3)).toMatchObject({ failed: true, summary: expect.stringMatching(/^alice deployed [0-9a-f]{7} which failed$/) as unknown });
      expect(await serving()).toEqual(['web.v2']);
      expect(await logs()).toContain('v3 release phase failed: exit code 3');
    });

    it('fails a config change whose release phase fails, and the previous release keeps serving', async () => {
      await build(1, { web: 'serve', release: './migrate' });
      answer = (spec) => ({ exitCode: spec.env.DATABASE === 'broken' ? 1 : 0, output: '' });
      const response = await controller.call('POST', '/v2/apps/myapp/config/', { token: alice, body: { values: { DATABASE: 'broken' } } });
      expect(response.status).toBe(400);
      expect((response.json as { detail: string }).detail).toContain("release phase failed: the release command './migrate' of v3 exited with code 1");
      expect((await release(3)).failed).toBe(true);
      expect(await serving()).toEqual(['web.v2']);
      const config = (await controller.call('GET', '/v2/apps/myapp/config/', { token: alice })).json as { values: Record<string, string> };
      expect(config.values.DATABASE).toBeUndefined();
    });

    it('streams the output to a builder that asks, then the outcome line', async () => {
      await build(1, { web: 'serve' });
      const stream = { accept: 'application/x-ndjson, application/json' };
      const ok = await build(2, { web: 'serve', release: './migrate' }, stream);
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(ok.body.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
        { output: "Running release command './migrate'...\n" },
        { output: 'migrating\nmigrated\n' },
        { status: 200, body: { release: { version: 3 } } },
      ]);

      answer = () => ({ exitCode: 1, output: 'nope\n' });
      const failed = await build(3, { web: 'serve', release: './migrate' }, stream);
      const lines = failed.body.trim().split('\n').map((line) => JSON.parse(line) as { status?: number; body?: { detail: string } });
      expect(lines.at(-2)).toEqual({ output: 'nope\n' });
      expect(lines.at(-1)!.status).toBe(400);
      expect(lines.at(-1)!.body!.detail).toContain("the release command './migrate' of v4 exited with code 1");
      expect(await serving()).toEqual(['web.v3']);

      // A refusal before any work is a plain answer.
      const refused = await controller.call('POST', '/v2/hooks/build/', { builder: true, body: { ...push(3, {}), receive_repo: 'nothing' }, headers: stream });
      expect(refused.status).toBe(404);
    });

    it('refuses to scale `release` and never starts it, and a Procfile that drops it scales nothing to 0', async () => {
      await build(1, { web: 'serve', release: './migrate' });
      const response = await controller.call('POST', '/v2/apps/myapp/scale/', { token: alice, body: { release: 1 } });
      expect(response.status).toBe(404);
      expect(response.json).toEqual({ detail: 'Container type release does not exist in application' });
      await build(2, { web: 'serve' });
      const app = (await controller.call('GET', '/v2/apps/myapp/', { token: alice })).json as { structure: Record<string, number> };
      expect(app.structure).toEqual({ web: 1 });
      expect(await serving()).toEqual(['web.v3']);
    });
  });

  it('never refuses a Procfile for dropping its release: line under DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING', async () => {
    await start({ rejectIfProcfileMissing: true });
    await build(1, { web: 'serve', worker: 'work', release: './migrate' });
    expect((await build(2, { web: 'serve', worker: 'work' })).status).toBe(200);
    expect((await build(3, { web: 'serve' })).status).toBe(409);
  });

  it('fails a release whose command outlives DEIS_RELEASE_PHASE_TIMEOUT, and the previous release keeps serving', async () => {
    await start({ releasePhaseTimeoutMs: 200 });
    await build(1, { web: 'serve' });
    answer = () => new Promise<RunResult>(() => undefined);
    const response = await build(2, { web: 'serve', release: 'sleep 1000' });
    expect(response.status).toBe(400);
    expect((response.json as { detail: string }).detail).toContain("release phase timed out: the release command 'sleep 1000' of v3 did not finish within 200 ms and was stopped; v3 was not deployed");
    expect((await release(3)).failed).toBe(true);
    expect(await serving()).toEqual(['web.v2']);
  });
});
