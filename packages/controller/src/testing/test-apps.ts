/**
 * For tests of app-scoped routes: an app row with its defaults, written straight to the store, so these tests do not
 * depend on the apps endpoint. Used only by `*.test.ts` files.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ContainerSpec } from '@deis/scheduler/scheduler';
import { storeTime } from '../clock.ts';
import { createAppDefaults } from '../settings/app-defaults.ts';
import { startTestController } from './test-controller.ts';
import type { TestController } from './test-controller.ts';
import { findUserByUsername } from '../users/user-store.ts';

export async function createTestApp(controller: TestController, ownerUsername: string, id: string): Promise<{ uuid: string; id: string }> {
  const { db } = controller.deps;
  const owner = await findUserByUsername(db, ownerUsername);
  if (!owner) throw new Error(`no user ${ownerUsername}`);
  const now = storeTime();
  const app = { uuid: randomUUID(), id, owner_id: owner.id, structure: '{}', created: now, updated: now };
  await db.insertInto('apps').values(app).execute();
  await createAppDefaults(db, app);
  return { uuid: app.uuid, id };
}

/** Makes `username` a collaborator on the app. */
export async function shareTestApp(controller: TestController, appUuid: string, username: string): Promise<void> {
  const user = await findUserByUsername(controller.deps.db, username);
  if (!user) throw new Error(`no user ${username}`);
  await controller.deps.db.insertInto('perms').values({ app_uuid: appUuid, user_id: user.id, created: storeTime() }).execute();
}

/** The usual start of an app-scoped route test: a fresh controller, the user `alice` and her app `myapp`. */
export async function startWithAlicesApp(): Promise<{ controller: TestController; alice: string; appUuid: string }> {
  const controller = await startTestController();
  const alice = await controller.user('alice');
  const { uuid } = await createTestApp(controller, 'alice', 'myapp');
  return { controller, alice, appUuid: uuid };
}

/**
 * A fresh controller, the user `alice` and her app created through the API, as a client creates it (its first
 * release, settings and events included).
 */
export async function startWithAlicesCreatedApp(id = 'myapp'): Promise<{ controller: TestController; alice: string }> {
  const controller = await startTestController();
  const alice = await controller.user('alice');
  const created = await controller.call('POST', '/v2/apps/', { token: alice, body: { id } });
  if (created.status !== 201) throw new Error(`creating ${id}: ${created.status} ${created.body}`);
  return { controller, alice };
}

/** Records the spec of every one-off run the controller starts, each answered with exit 0 and no output. */
export function recordRuns(controller: TestController): ContainerSpec[] {
  const runs: ContainerSpec[] = [];
  controller.scheduler.runHandler = (spec) => {
    runs.push(spec);
    return { exitCode: 0, output: '' };
  };
  return runs;
}
