import { afterEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { insertBuild } from './build-store.ts';

/** The builder's build hook sent again with the same request id (it fails over between controllers, ADR 0021). */
describe('a retried build hook', () => {
  let controller: TestController;
  afterEach(async () => controller.close());

  const hook = (requestId: string, image = 'example/app:2') => ({ receive_user: 'alice', receive_repo: 'demo', image, sha: 'abc1234', procfile: { web: 'serve' }, dockerfile: 'true', request_id: requestId });
  const send = (body: unknown) => controller.call('POST', '/v2/hooks/build/', { builder: true, body });
  const releases = () => controller.deps.db.selectFrom('releases').select(['version', 'failed', 'build_uuid']).orderBy('version').execute();

  const start = async () => {
    controller = await startTestController();
    const alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    expect((await send(hook('first', 'example/app:1'))).json).toEqual({ release: { version: 2 } });
  };

  it('answers what the first call made, without a second build or release', async () => {
    await start();
    expect((await send(hook('second'))).json).toEqual({ release: { version: 3 } });
    expect((await send(hook('second'))).json).toEqual({ release: { version: 3 } });
    expect((await releases()).map((r) => r.version)).toEqual([1, 2, 3]);
    expect(await controller.deps.db.selectFrom('builds').select('request_id').orderBy('created').execute()).toEqual([{ request_id: 'first' }, { request_id: 'second' }]);
    // Another push (another request id) is another release.
    expect((await send(hook('third', 'example/app:3'))).json).toEqual({ release: { version: 4 } });
  });

  it('answers the failure of a release that failed, and makes no other', async () => {
    await start();
    controller.scheduler.crashImage('example/app:2');
    const first = await send(hook('second'));
    expect(first.status).toBe(400);
    const again = await send(hook('second'));
    expect(again.status).toBe(400);
    expect(JSON.stringify(again.json)).toContain('exited');
    expect((await releases()).map((r) => [r.version, r.failed])).toEqual([[1, 0], [2, 0], [3, 1]]);
  });

  it('makes the release of a build stored by a call that went no further, once', async () => {
    await start();
    const app = await controller.deps.db.selectFrom('apps').select(['uuid']).where('id', '=', 'demo').executeTakeFirstOrThrow();
    const user = await controller.deps.db.selectFrom('users').select(['id']).where('username', '=', 'alice').executeTakeFirstOrThrow();
    const stored = await insertBuild(controller.deps.db, app.uuid, user.id, { image: 'example/app:2', sha: 'abc1234', procfile: { web: 'serve' }, dockerfile: 'true', requestId: 'second' });
    const answers = await Promise.all([send(hook('second')), send(hook('second'))]);
    expect(answers.map((r) => r.json)).toEqual([{ release: { version: 3 } }, { release: { version: 3 } }]);
    expect((await releases()).map((r) => [r.version, r.build_uuid === stored.uuid])).toEqual([[1, false], [2, false], [3, true]]);
  });
});
