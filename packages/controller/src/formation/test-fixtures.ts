/**
 * Apps, builds and releases written straight into the store, for the formation's tests: they exercise deploys
 * without depending on the routes that normally create these rows. Used only by `*.test.ts` files.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { storeTime } from '../clock.ts';
import type { TestController } from '../testing/test-controller.ts';
import { findUserByUsername } from '../users/user-store.ts';
import { deployRelease } from './deploy.ts';
import { whenAppIdle } from './formation-state.ts';

export interface SeededApp {
  uuid: string;
  id: string;
  ownerId: number;
}

export interface SeedBuild {
  image: string;
  procfile?: Record<string, string>;
  sha?: string;
  dockerfile?: string;
}

export interface SeedConfig {
  values?: Record<string, string>;
  memory?: Record<string, string>;
  cpu?: Record<string, string>;
  healthcheck?: Record<string, unknown>;
}

/** An app as `apps:create` leaves it: an empty config and release v1 without a build. */
export async function seedApp(controller: TestController, id: string, owner: string): Promise<SeededApp> {
  const db = controller.deps.db;
  const user = await findUserByUsername(db, owner);
  if (!user) throw new Error(`no user ${owner}`);
  const uuid = randomUUID();
  const now = storeTime();
  await db.insertInto('apps').values({ uuid, id, owner_id: user.id, structure: '{}', created: now, updated: now }).execute();
  const configUuid = await insertConfig(controller, uuid, user.id, {});
  await db
    .insertInto('releases')
    .values({ uuid: randomUUID(), app_uuid: uuid, owner_id: user.id, version: 1, summary: `${owner} created initial release`, failed: 0, config_uuid: configUuid, build_uuid: null, exception: null, created: now, updated: now })
    .execute();
  return { uuid, id, ownerId: user.id };
}

async function insertConfig(controller: TestController, appUuid: string, ownerId: number, config: SeedConfig): Promise<string> {
  const uuid = randomUUID();
  const now = storeTime();
  await controller.deps.db
    .insertInto('configs')
    .values({
      uuid,
      app_uuid: appUuid,
      owner_id: ownerId,
      values: JSON.stringify(config.values ?? {}),
      memory: JSON.stringify(config.memory ?? {}),
      cpu: JSON.stringify(config.cpu ?? {}),
      tags: '{}',
      registry: '{}',
      healthcheck: JSON.stringify(config.healthcheck ?? {}),
      created: now,
      updated: now,
    })
    .execute();
  return uuid;
}

/**
 * Stores release v(N+1) with a new build (or the newest good release's build when `build` is null) and the given
 * config, without deploying it. Returns its version.
 */
export async function seedRelease(controller: TestController, app: SeededApp, build: SeedBuild | null, config: SeedConfig = {}): Promise<number> {
  const db = controller.deps.db;
  const now = storeTime();
  const latest = await db.selectFrom('releases').selectAll().where('app_uuid', '=', app.uuid).orderBy('version', 'desc').limit(1).executeTakeFirstOrThrow();
  let buildUuid: string | null;
  if (build) {
    buildUuid = randomUUID();
    await db
      .insertInto('builds')
      .values({ uuid: buildUuid, app_uuid: app.uuid, owner_id: app.ownerId, image: build.image, sha: build.sha ?? '', procfile: JSON.stringify(build.procfile ?? {}), dockerfile: build.dockerfile ?? '', created: now, updated: now })
      .execute();
  } else {
    const good = await db.selectFrom('releases').select('build_uuid').where('app_uuid', '=', app.uuid).where('failed', '=', 0).orderBy('version', 'desc').limit(1).executeTakeFirstOrThrow();
    buildUuid = good.build_uuid;
  }
  const configUuid = await insertConfig(controller, app.uuid, app.ownerId, config);
  const version = latest.version + 1;
  await db
    .insertInto('releases')
    .values({ uuid: randomUUID(), app_uuid: app.uuid, owner_id: app.ownerId, version, summary: `deployed v${version}`, failed: 0, config_uuid: configUuid, build_uuid: buildUuid, exception: null, created: now, updated: now })
    .execute();
  return version;
}

/** seedRelease, then deployRelease, as a build or config POST does; resolves once the old containers are gone. */
export async function deploySeeded(controller: TestController, app: SeededApp, build: SeedBuild | null, config: SeedConfig = {}, username = 'alice'): Promise<number> {
  const version = await seedRelease(controller, app, build, config);
  await deployRelease(controller.deps, { appUuid: app.uuid, version, username });
  await whenAppIdle(controller.deps, app.id);
  return version;
}
