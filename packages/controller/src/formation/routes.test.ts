import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import type { Pod } from '@deis/sdk/types';
import { whenAppIdle } from './formation-state.ts';

const POD_NAME = /^demo-(web|worker|cmd)-[0-9]{8,10}-[a-z0-9]{5}$/;

describe('formation routes (scale, pods, restart, run, logs)', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
  });
  afterEach(async () => controller.close());

  const pushBuild = async (body: Record<string, unknown>) => {
    const response = await controller.call('POST', '/v2/apps/demo/builds/', { token: alice, body });
    expect(response.status, response.body).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
  };
  const pods = async (path = '') => {
    const response = await controller.call('GET', `/v2/apps/demo/pods/${path}`, { token: alice });
    expect(response.status).toBe(200);
    return response.json as { count: number; results: Pod[] };
  };
  const structure = async () => ((await controller.call('GET', '/v2/apps/demo/', { token: alice })).json as { structure: Record<string, number> }).structure;
  const scale = (body: unknown, token = alice) => controller.call('POST', '/v2/apps/demo/scale/', { token, body });

  describe('scale', () => {
    it('refuses to scale an app without a build', async () => {
      const response = await scale({ web: 1 });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ detail: 'No build associated with this release' });
    });

    it('scales up and down, to zero too, and says so in the structure and the pod list', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } });
      expect(await structure()).toEqual({ web: 1 });
      let response = await scale({ web: 3, worker: '2' });
      expect(response.status).toBe(204);
      expect(response.body).toBe('');
      expect(await structure()).toEqual({ web: 3, worker: 2 });
      const listed = await pods();
      expect(listed.count).toBe(5);
      expect(listed.results.every((pod) => POD_NAME.test(pod.name) && pod.state === 'up' && pod.release === 'v2')).toBe(true);
      expect(listed.results.filter((pod) => pod.type === 'web')).toHaveLength(3);
      expect(listed.results[0]!.started).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      response = await scale({ web: 0 });
      expect(response.status).toBe(204);
      expect(await structure()).toEqual({ web: 0, worker: 2 });
      expect((await pods()).results.map((pod) => pod.type)).toEqual(['worker', 'worker']);
      expect(controller.scheduler.specs()).toHaveLength(2);
    });

    it('answers bad counts and unknown types as Deis does', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve' } });
      expect((await scale({ web: 'abc' })).json).toEqual({ detail: "Invalid scaling format: invalid literal for int() with base 10: 'abc'" });
      expect((await scale({ web: -1 })).json).toEqual({ detail: "Invalid scaling format: ['Must be greater than or equal to zero']" });
      expect((await scale({ web: null })).status).toBe(400);
      const unknown = await scale({ worker: 1 });
      expect(unknown.status).toBe(404);
      expect(unknown.json).toEqual({ detail: 'Container type worker does not exist in application' });
      // `cmd` is always allowed.
      expect((await scale({ cmd: 1 })).status).toBe(204);
      expect(await structure()).toEqual({ web: 1, cmd: 1 });
    });

    it('keeps the stored structure and the containers as they were when the engine fails half-way', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve' } });
      const before = controller.scheduler.specs().map((s) => s.name);
      controller.scheduler.failNext('start');
      const response = await scale({ web: 4 });
      expect(response.status).toBe(503);
      expect(await structure()).toEqual({ web: 1 });
      expect(controller.scheduler.specs().map((s) => s.name)).toEqual(before);
      expect((await scale({ web: 4 })).status).toBe(204);
      expect((await pods()).count).toBe(4);
    });

    it('records who scaled in the app log, and no auto scale-up after scaling to 0', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve' } });
      await scale({ web: 0 });
      await pushBuild({ image: 'example/app:2', procfile: { web: 'serve' } });
      expect(await structure()).toEqual({ web: 0 });
      expect(controller.scheduler.specs()).toHaveLength(0);
      const logs = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
      expect(logs.body).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 deis\[controller\]: INFO alice scaled pods web=0$/m);
    });

    it('answers a scale once the router has applied it, and stops nothing before', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } });
      const routing = controller.deps.routing;
      routing.markApplied(routing.generation);
      for (const [body, containers] of [[{ web: 3 }, 3], [{ web: 1 }, 1]] as const) {
        const before = routing.generation;
        let answered = false;
        const scaling = scale(body).then((response) => {
          answered = true;
          return response;
        });
        await expect.poll(() => routing.generation).toBeGreaterThan(before);
        expect(answered).toBe(false);
        expect(controller.scheduler.specs()).toHaveLength(3);
        routing.markApplied(routing.generation);
        expect((await scaling).status).toBe(204);
        expect(controller.scheduler.specs()).toHaveLength(containers);
      }
      // Workers receive no traffic: nothing to wait for.
      expect((await scale({ worker: 2 })).status).toBe(204);
    });

    it('lets only app users scale', async () => {
      await pushBuild({ image: 'example/app:1' });
      const mallory = await controller.user('mallory');
      expect((await scale({ cmd: 2 }, mallory)).status).toBe(403);
      expect((await controller.call('POST', '/v2/apps/nope/scale/', { token: alice, body: { web: 1 } })).status).toBe(404);
    });
  });

  describe('pods', () => {
    beforeEach(async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } });
      await scale({ web: 2, worker: 1 });
    });

    it('lists by type and by name, a crashed container as crashed with its restart count, leaving out one-off runs', async () => {
      expect((await pods('web/')).results.map((pod) => pod.type)).toEqual(['web', 'web']);
      const [worker] = (await pods('worker/')).results;
      expect((await pods(`worker/${worker!.name}/`)).results).toEqual([worker]);
      controller.scheduler.crash(worker!.name);
      expect((await pods()).count).toBe(3);
      expect((await pods('worker/')).results).toEqual([{ ...worker, state: 'crashed', restarts: 0 }]);
      expect(await pods('nothing/')).toEqual({ count: 0, results: [] });
    });

    it('restarts all pods, one type, or one pod by full or short name, answering the new pods', async () => {
      const old = (await pods()).results.map((pod) => pod.name);
      let response = await controller.call('POST', '/v2/apps/demo/pods/restart/', { token: alice });
      expect(response.status).toBe(200);
      let fresh = response.json as Pod[];
      expect(fresh).toHaveLength(3);
      expect(fresh.some((pod) => old.includes(pod.name))).toBe(false);
      expect((await pods()).results.map((pod) => pod.name).sort()).toEqual(fresh.map((pod) => pod.name).sort());

      response = await controller.call('POST', '/v2/apps/demo/pods/web/restart/', { token: alice });
      fresh = response.json as Pod[];
      expect(fresh.map((pod) => pod.type)).toEqual(['web', 'web']);

      const [worker] = (await pods('worker/')).results;
      const short = worker!.name.slice('demo-'.length);
      response = await controller.call('POST', `/v2/apps/demo/pods/worker/${short}/restart/`, { token: alice });
      fresh = response.json as Pod[];
      expect(fresh).toHaveLength(1);
      expect(fresh[0]!.type).toBe('worker');
      expect(fresh[0]!.name).not.toBe(worker!.name);
      expect((await pods()).count).toBe(3);

      response = await controller.call('POST', '/v2/apps/demo/pods/worker/demo-worker-1-zzzzz/restart/', { token: alice });
      expect(response.status).toBe(200);
      expect(response.json).toEqual([]);
    });

    it('shows the new pods of a rollout as starting until they are ready', async () => {
      let letGo!: () => void;
      const gate = new Promise<void>((resolve) => {
        letGo = resolve;
      });
      const waitReady = controller.scheduler.waitReady.bind(controller.scheduler);
      controller.scheduler.waitReady = async (name, check, timeoutMs) => {
        await gate;
        return waitReady(name, check, timeoutMs);
      };
      const restarting = controller.call('POST', '/v2/apps/demo/pods/web/restart/', { token: alice });
      await expect.poll(async () => (await pods()).results.filter((pod) => pod.state === 'starting').length).toBe(2);
      expect((await pods()).results.filter((pod) => pod.state === 'up').map((pod) => pod.type).sort()).toEqual(['web', 'web', 'worker']);
      letGo();
      expect((await restarting).status).toBe(200);
      expect((await pods()).results.map((pod) => pod.state)).toEqual(['up', 'up', 'up']);
    });

    it('keeps the old pods when their replacements fail, and says why', async () => {
      const old = (await pods()).results.map((pod) => pod.name).sort();
      controller.scheduler.behaviour = () => ({ output: [{ stream: 'stderr', text: 'boom: no config' }], exitCode: 3 });
      const response = await controller.call('POST', '/v2/apps/demo/pods/web/restart/', { token: alice });
      expect(response.status).toBe(400);
      expect((response.json as { detail: string }).detail).toContain('boom: no config');
      expect((await pods()).results.map((pod) => pod.name).sort()).toEqual(old);
    });
  });

  describe('run', () => {
    it('needs a command and a build', async () => {
      expect((await controller.call('POST', '/v2/apps/demo/run', { token: alice, body: {} })).json).toEqual({ detail: 'command is a required field' });
      const response = await controller.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'ls' } });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ detail: 'No build associated with this release to run this command' });
    });

    it('runs the command in a one-off container of the current release and answers its exit code and output', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve' } });
      await controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { values: { SECRET_THING: 'x' } } });
      const seen: Array<{ name: string; image: string; env: Record<string, string>; labels: Record<string, string>; command?: string[] }> = [];
      controller.scheduler.runHandler = (spec) => {
        seen.push(spec);
        return { exitCode: 7, output: 'hi\n' };
      };
      const response = await controller.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'echo hi; exit 7' } });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ exit_code: 7, output: 'hi\n' });
      expect(seen[0]!.name).toMatch(/^demo-run-[a-z0-9]{5}$/);
      expect(seen[0]!.command).toEqual(['echo hi; exit 7']);
      expect(seen[0]!.env.SECRET_THING).toBe('x');
      expect(seen[0]!.labels['io.deis.type']).toBe('run');
      expect((await pods()).results.every((pod) => pod.type !== 'run')).toBe(true);
      expect(await structure()).toEqual({ web: 1 });
      const logs = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
      expect(logs.body).toContain(`alice on ${seen[0]!.name} runs 'echo hi; exit 7'`);
    });

    it('answers 503 when the engine is unavailable', async () => {
      await pushBuild({ image: 'example/app:1' });
      controller.scheduler.failNext('run');
      expect((await controller.call('POST', '/v2/apps/demo/run', { token: alice, body: { command: 'ls' } })).status).toBe(503);
    });
  });

  describe('logs', () => {
    it('merges container output and controller events in the Deis format, newest last, limited by log_lines', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve' } });
      const [pod] = (await pods()).results;
      controller.scheduler.print(pod!.name, 'listening on 5000');
      controller.scheduler.print(pod!.name, 'GET / 200');
      const response = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      const lines = response.body.trimEnd().split('\n');
      const suffix = pod!.name.slice(-5);
      expect(lines.at(-2)).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+00:00 demo\\[web\\.v2\\.${suffix}\\]: listening on 5000$`));
      expect(lines.at(-1)).toMatch(/demo\[web\.v2\.[a-z0-9]{5}\]: GET \/ 200$/);
      const one = await controller.call('GET', '/v2/apps/demo/logs?log_lines=1', { token: alice });
      expect(one.body.trimEnd().split('\n')).toHaveLength(1);
      expect(one.body).toContain('GET / 200');
    });

    it('answers 204 when there is nothing, and serves the log without asking the engine', async () => {
      await controller.deps.db.deleteFrom('log_lines').execute();
      const empty = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
      expect(empty.status).toBe(204);
      expect(empty.body).toBe('');
      controller.deps.logs.appendAppLog('demo', 'release.v2', 'migrated');
      controller.scheduler.failNext('list');
      const served = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
      expect(served.status).toBe(200);
      expect(served.body).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 demo\[release\.v2\]: migrated\n$/);
    });

    it('keeps the lines of a replaced container, and filters by process type and release', async () => {
      await pushBuild({ image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } });
      await scale({ web: 1, worker: 1 });
      const before = (await pods()).results;
      for (const pod of before) controller.scheduler.print(pod.name, `${pod.type} says hi`);
      const restarted = await controller.call('POST', '/v2/apps/demo/pods/restart/', { token: alice });
      expect(restarted.status).toBe(200);
      expect((await pods()).results.some((pod) => before.some((old) => old.name === pod.name))).toBe(false);
      const all = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
      expect(all.body).toMatch(/demo\[web\.v2\.[a-z0-9]{5}\]: web says hi/);
      expect(all.body).toMatch(/demo\[worker\.v2\.[a-z0-9]{5}\]: worker says hi/);
      const web = await controller.call('GET', '/v2/apps/demo/logs?type=web', { token: alice });
      expect(web.body.trimEnd().split('\n')).toEqual([expect.stringMatching(/demo\[web\.v2\.[a-z0-9]{5}\]: web says hi$/)]);
      expect((await controller.call('GET', '/v2/apps/demo/logs?release=v3', { token: alice })).status).toBe(204);
      expect((await controller.call('GET', '/v2/apps/demo/logs?release=2&type=worker', { token: alice })).body).toContain('worker says hi');
    });
  });
});
