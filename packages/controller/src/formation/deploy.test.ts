import { ValidationError } from '@deis/core/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { deployRelease, removeAppContainers } from './deploy.ts';
import { whenAppIdle } from './formation-state.ts';
import { deploySeeded, seedApp, seedRelease } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';
import { appUpstreams, upstreamsByApp } from './upstreams.ts';

const POD_NAME = (app: string, type: string) => new RegExp(`^${app}-${type}-[0-9]{8,10}-[a-z0-9]{5}$`);

describe('deployRelease', () => {
  let controller: TestController;
  let app: SeededApp;
  beforeEach(async () => {
    controller = await startTestController();
    await controller.user('alice');
    app = await seedApp(controller, 'demo', 'alice');
  });
  afterEach(async () => controller.close());

  const structure = async () => JSON.parse((await controller.deps.db.selectFrom('apps').select('structure').where('uuid', '=', app.uuid).executeTakeFirstOrThrow()).structure) as Record<string, number>;
  const release = async (version: number) => controller.deps.db.selectFrom('releases').selectAll().where('app_uuid', '=', app.uuid).where('version', '=', version).executeTakeFirstOrThrow();

  it('runs an image without a Procfile as one cmd container with its own CMD and its EXPOSEd port', async () => {
    controller.scheduler.defineImage('example/app:1', [8080, 9000]);
    const version = await deploySeeded(controller, app, { image: 'example/app:1' });
    expect(await structure()).toEqual({ cmd: 1 });
    const [spec, ...rest] = controller.scheduler.specs();
    expect(rest).toHaveLength(0);
    expect(spec!.name).toMatch(POD_NAME('demo', 'cmd'));
    expect(spec!.entrypoint).toBeUndefined();
    expect(spec!.command).toBeUndefined();
    expect(spec!.port).toBe(8080);
    expect(spec!.labels).toEqual({ 'io.deis.platform': 'test', 'io.deis.app': 'demo', 'io.deis.type': 'cmd', 'io.deis.release': `v${version}` });
    expect(spec!.env).toMatchObject({ DEIS_APP: 'demo', WORKFLOW_RELEASE: `v${version}`, WORKFLOW_RELEASE_SUMMARY: `deployed v${version}`, PORT: '8080' });
    expect(spec!.env.WORKFLOW_RELEASE_CREATED_AT).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(spec!.env.SOURCE_VERSION).toBeUndefined();
  });

  it('runs Procfile types under /bin/sh -c, web only by default, with config values winning and limits applied', async () => {
    await deploySeeded(
      controller,
      app,
      { image: 'example/app:2', procfile: { web: 'node server.js', worker: 'node worker.js' }, dockerfile: 'true', sha: 'abc1234' },
      { values: { PORT: '3000', DEIS_APP: 'overridden', GREETING: 'hi' }, memory: { web: '64M' }, cpu: { web: '250m' } },
    );
    expect(await structure()).toEqual({ web: 1 });
    const [spec] = controller.scheduler.specs();
    expect(spec!.name).toMatch(POD_NAME('demo', 'web'));
    expect(spec!.entrypoint).toEqual(['/bin/sh', '-c']);
    expect(spec!.command).toEqual(['node server.js']);
    expect(spec!.port).toBe(3000);
    expect(spec!.env).toMatchObject({ PORT: '3000', DEIS_APP: 'overridden', GREETING: 'hi', SOURCE_VERSION: 'abc1234' });
    expect(spec!.memoryBytes).toBe(64 * 1024 * 1024);
    expect(spec!.cpuMillis).toBe(250);
  });

  it('gives buildpack apps web=1 and PORT 5000 whatever the image exposes', async () => {
    controller.scheduler.defineImage('slug:1', [8080]);
    await deploySeeded(controller, app, { image: 'slug:1', sha: 'deadbeef', procfile: { web: 'bin/start' } });
    const [spec] = controller.scheduler.specs();
    expect(spec!.env.PORT).toBe('5000');
    expect(spec!.port).toBe(5000);
    expect(spec!.entrypoint).toEqual(['/runner/init']);
    expect(spec!.command).toEqual(['start', 'web']);
  });

  it('replaces the old containers with the new release and keeps the scaled structure', async () => {
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve', worker: 'work' } });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 2, worker: 1 }) }).where('uuid', '=', app.uuid).execute();
    const v3 = await deploySeeded(controller, app, null, { values: { A: '1' } });
    const specs = controller.scheduler.specs();
    expect(specs.map((s) => s.labels['io.deis.type']).sort()).toEqual(['web', 'web', 'worker']);
    expect(new Set(specs.map((s) => s.labels['io.deis.release']))).toEqual(new Set([`v${v3}`]));
    expect(specs.every((s) => s.env.A === '1')).toBe(true);
    // The pods of one rollout share the digits of their type; a new release gets new ones.
    const webHashes = new Set(specs.filter((s) => s.labels['io.deis.type'] === 'web').map((s) => s.name.split('-')[2]));
    expect(webHashes.size).toBe(1);
  });

  it('marks the release failed, keeps the old containers serving and says why with the last output', async () => {
    await deploySeeded(controller, app, { image: 'good:1', procfile: { web: 'serve' } });
    const before = controller.scheduler.specs().map((s) => s.name);
    controller.scheduler.crashImage('bad:1');
    const version = await seedRelease(controller, app, { image: 'bad:1', procfile: { web: 'serve' } });
    const error = await deployRelease(controller.deps, { appUuid: app.uuid, version, username: 'alice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('Error: app crashed at start');
    expect((error as Error).message).toContain('web container');
    expect(controller.scheduler.specs().map((s) => s.name)).toEqual(before);
    const row = await release(version);
    expect(row.failed).toBe(1);
    expect(row.summary).toMatch(/^alice deployed [0-9a-f-]{7} which failed$/);
    expect(row.exception).toContain('Error: app crashed at start');
    expect(await structure()).toEqual({ web: 1 });
    expect(await appUpstreams(controller.deps, { id: 'demo' })).toHaveLength(1);
  });

  it('fails with 503 semantics when the engine is unavailable, leaving nothing behind', async () => {
    controller.scheduler.failNext('start');
    const version = await seedRelease(controller, app, { image: 'x:1' });
    const error = await deployRelease(controller.deps, { appUuid: app.uuid, version, username: 'alice' }).catch((e: unknown) => e);
    expect((error as { kind?: string }).kind).toBe('unavailable');
    expect(controller.scheduler.specs()).toHaveLength(0);
    expect((await release(version)).failed).toBe(1);
    expect(await structure()).toEqual({});
  });

  it('answers, keeping the container out of traffic, when a readiness probe never passes, using the probe the config names', async () => {
    const checks: string[] = [];
    controller.scheduler.behaviour = () => ({ ready: (check) => (checks.push(check.kind), check.kind !== 'http') });
    const version = await seedRelease(controller, app, { image: 'x:1' }, { healthcheck: { 'web/cmd': { readinessProbe: { httpGet: { path: '/health', port: 5000 } } } } });
    const outcome = await deployRelease(controller.deps, { appUuid: app.uuid, version, username: 'alice' });
    expect(outcome.notReadyNotice).toMatch(new RegExp(`^v${version} is released, but its new containers are not ready yet`));
    expect(checks).toContain('http');
    expect(checks).not.toContain('tcp');
    expect(controller.scheduler.specs()).toHaveLength(1);
    expect((await release(version)).failed).toBe(0);
    expect(await appUpstreams(controller.deps, { id: 'demo' })).toEqual([]);
  });

  it('stops the old containers only once the router has applied the switch', async () => {
    const routing = controller.deps.routing;
    await deploySeeded(controller, app, { image: 'example/app:1' });
    routing.markApplied(routing.generation);
    const [old] = controller.scheduler.specs();
    const version = await seedRelease(controller, app, { image: 'example/app:2' });
    const generation = routing.generation;
    let done = false;
    const deploying = deployRelease(controller.deps, { appUuid: app.uuid, version, username: 'alice' }).then(() => {
      done = true;
    });
    await expect.poll(() => routing.generation).toBeGreaterThan(generation);
    const upstreams = await appUpstreams(controller.deps, { id: 'demo' });
    expect(upstreams).toHaveLength(1);
    const names = controller.scheduler.specs().map((s) => s.name);
    expect(names).toContain(old!.name);
    expect(names).toHaveLength(2);
    expect(done).toBe(false);
    routing.markApplied(routing.generation);
    await deploying;
    await whenAppIdle(controller.deps, 'demo');
    expect(controller.scheduler.specs().map((s) => s.name)).not.toContain(old!.name);
  });

  it('answers once the router has switched, while the old containers finish their grace period under the app lock', async () => {
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'serve' } });
    const [old] = controller.scheduler.specs();
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const stop = controller.scheduler.stop.bind(controller.scheduler);
    controller.scheduler.stop = async (name, grace) => {
      await gate;
      return stop(name, grace);
    };
    const version = await seedRelease(controller, app, { image: 'example/app:2', procfile: { web: 'serve' } });
    await deployRelease(controller.deps, { appUuid: app.uuid, version, username: 'alice' });
    expect(controller.scheduler.specs().map((s) => s.name)).toContain(old!.name);
    const upstreams = await appUpstreams(controller.deps, { id: 'demo' });
    expect(upstreams).toHaveLength(1);
    const fresh = (await controller.scheduler.list({ 'io.deis.app': 'demo' })).find((c) => c.name !== old!.name)!;
    expect(upstreams[0]).toEqual(fresh.address);
    let idle = false;
    const waiting = whenAppIdle(controller.deps, 'demo').then(() => {
      idle = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(idle).toBe(false);
    letGo();
    await waiting;
    expect(controller.scheduler.specs().map((s) => s.name)).toEqual([fresh.name]);
  });

  it('never interleaves two deploys of one app', async () => {
    await deploySeeded(controller, app, { image: 'example/app:1' });
    const v3 = await seedRelease(controller, app, { image: 'example/app:2' });
    const v4 = await seedRelease(controller, app, { image: 'example/app:3' });
    await Promise.all([
      deployRelease(controller.deps, { appUuid: app.uuid, version: v3, username: 'alice' }),
      deployRelease(controller.deps, { appUuid: app.uuid, version: v4, username: 'alice' }),
    ]);
    await whenAppIdle(controller.deps, 'demo');
    const specs = controller.scheduler.specs();
    expect(specs).toHaveLength(1);
    expect(specs[0]!.image).toBe('example/app:3');
  });

  it('skips a release that a newer one has superseded while it waited for the app lock', async () => {
    await deploySeeded(controller, app, { image: 'example/app:1' });
    const v3 = await seedRelease(controller, app, { image: 'example/app:2' });
    const v4 = await seedRelease(controller, app, null, { values: { B: '2' } });
    await deployRelease(controller.deps, { appUuid: app.uuid, version: v4, username: 'alice' });
    await deployRelease(controller.deps, { appUuid: app.uuid, version: v3, username: 'alice' });
    await whenAppIdle(controller.deps, 'demo');
    const specs = controller.scheduler.specs();
    expect(specs.map((s) => s.labels['io.deis.release'])).toEqual([`v${v4}`]);
    expect((await release(v3)).failed).toBe(0);
  });

  it('resets web and cmd when the build type changes, and scales types the Procfile dropped to 0', async () => {
    await deploySeeded(controller, app, { image: 'example/app:1' });
    expect(await structure()).toEqual({ cmd: 1 });
    await deploySeeded(controller, app, { image: 'slug:1', sha: 'abc', procfile: { web: 'a', worker: 'b' } });
    expect(await structure()).toEqual({ cmd: 0, web: 1 });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ cmd: 0, web: 1, worker: 2 }) }).where('uuid', '=', app.uuid).execute();
    await deploySeeded(controller, app, { image: 'slug:2', sha: 'abd', procfile: { web: 'a' } });
    expect(await structure()).toEqual({ cmd: 0, web: 1, worker: 0 });
    expect(controller.scheduler.specs().map((s) => s.labels['io.deis.type'])).toEqual(['web']);
  });

  it('removes every container of an app, one-off runs included', async () => {
    await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'a', worker: 'b' } });
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 2, worker: 1 }) }).where('uuid', '=', app.uuid).execute();
    await deploySeeded(controller, app, null);
    expect(controller.scheduler.specs()).toHaveLength(3);
    await controller.scheduler.start({ name: 'other-web-1', image: 'i', env: {}, labels: { 'io.deis.platform': 'test', 'io.deis.app': 'other', 'io.deis.type': 'web' } });
    await removeAppContainers(controller.deps, 'demo');
    expect(controller.scheduler.specs().map((s) => s.name)).toEqual(['other-web-1']);
  });

  it('removes containers only once the router has stopped sending them requests', async () => {
    const routing = controller.deps.routing;
    await deploySeeded(controller, app, { image: 'example/app:1' });
    routing.markApplied(routing.generation);
    const generation = routing.generation;
    let done = false;
    const removing = removeAppContainers(controller.deps, 'demo').then(() => {
      done = true;
    });
    await expect.poll(() => routing.generation).toBeGreaterThan(generation);
    expect(await appUpstreams(controller.deps, { id: 'demo' })).toEqual([]);
    expect(controller.scheduler.specs()).toHaveLength(1);
    expect(done).toBe(false);
    routing.markApplied(routing.generation);
    await removing;
    expect(controller.scheduler.specs()).toHaveLength(0);
  });
});

describe('appUpstreams', () => {
  it('lists only running web and cmd containers of the app', async () => {
    const controller = await startTestController();
    try {
      await controller.user('alice');
      const app = await seedApp(controller, 'demo', 'alice');
      await deploySeeded(controller, app, { image: 'example/app:1', procfile: { web: 'a', worker: 'b' } });
      await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: 3, worker: 1 }) }).where('uuid', '=', app.uuid).execute();
      await deploySeeded(controller, app, null);
      const upstreams = await appUpstreams(controller.deps, { id: 'demo' });
      expect(upstreams).toHaveLength(3);
      expect(upstreams.every((u) => u.port === 5000 && /^100\.64\./.test(u.host))).toBe(true);
      const web = controller.scheduler.specs().find((s) => s.labels['io.deis.type'] === 'web')!;
      controller.scheduler.crash(web.name);
      expect(await appUpstreams(controller.deps, { id: 'demo' })).toHaveLength(2);
    } finally {
      await controller.close();
    }
  });

  it('gives every app its own upstreams from one listing, as the routing table reads them', async () => {
    const controller = await startTestController();
    try {
      await controller.user('alice');
      await deploySeeded(controller, await seedApp(controller, 'one', 'alice'), { image: 'example/app:1' });
      const two = await seedApp(controller, 'two', 'alice');
      await deploySeeded(controller, two, { image: 'example/app:1' });
      await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ cmd: 2 }) }).where('uuid', '=', two.uuid).execute();
      await deploySeeded(controller, two, null);
      const byApp = await upstreamsByApp(controller.deps);
      expect([...byApp.keys()].sort()).toEqual(['one', 'two']);
      expect(byApp.get('one')).toEqual(await appUpstreams(controller.deps, { id: 'one' }));
      expect(byApp.get('two')).toEqual(await appUpstreams(controller.deps, { id: 'two' }));
      expect(byApp.get('two')).toHaveLength(2);
    } finally {
      await controller.close();
    }
  });
});
