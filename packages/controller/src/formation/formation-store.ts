/**
 * The rows a rollout reads and writes: the app's structure, its releases with their builds and configs. SQL only.
 * @module
 */
import type { Selectable } from 'kysely';
import { storeTime } from '../clock.ts';
import type { AppsTable, BuildsTable, ConfigsTable, Database, ReleasesTable } from '../db/schema.ts';

export type FormationApp = Selectable<AppsTable>;
export type ReleaseRow = Selectable<ReleasesTable>;
export type BuildRow = Selectable<BuildsTable>;
export type ConfigRow = Selectable<ConfigsTable>;

export async function findAppByUuid(db: Database, uuid: string): Promise<FormationApp | undefined> {
  return db.selectFrom('apps').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

export async function findReleaseByVersion(db: Database, appUuid: string, version: number): Promise<ReleaseRow | undefined> {
  return db.selectFrom('releases').selectAll().where('app_uuid', '=', appUuid).where('version', '=', version).executeTakeFirst();
}

/** The newest release that did not fail, which is what the app should be running (Deis: `release_set.filter(failed=False).latest()`). */
export async function latestGoodRelease(db: Database, appUuid: string, belowVersion?: number): Promise<ReleaseRow | undefined> {
  let query = db.selectFrom('releases').selectAll().where('app_uuid', '=', appUuid).where('failed', '=', 0);
  if (belowVersion !== undefined) query = query.where('version', '<', belowVersion);
  return query.orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function findBuild(db: Database, uuid: string): Promise<BuildRow | undefined> {
  return db.selectFrom('builds').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

export async function findConfig(db: Database, uuid: string): Promise<ConfigRow | undefined> {
  return db.selectFrom('configs').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

export function parseStructure(app: Pick<FormationApp, 'structure'>): Record<string, number> {
  const parsed = JSON.parse(app.structure) as Record<string, unknown>;
  const structure: Record<string, number> = {};
  for (const [type, count] of Object.entries(parsed)) structure[type] = Number(count) || 0;
  return structure;
}

export async function saveStructure(db: Database, appUuid: string, structure: Record<string, number>): Promise<void> {
  await db.updateTable('apps').set({ structure: JSON.stringify(structure), updated: storeTime() }).where('uuid', '=', appUuid).execute();
}

export async function markReleaseFailed(db: Database, releaseUuid: string, summary: string, exception: string): Promise<void> {
  await db.updateTable('releases').set({ failed: 1, summary, exception, updated: storeTime() }).where('uuid', '=', releaseUuid).execute();
}

/** Apps that have been given a build at least once: the ones the reconciler looks after. */
export async function appsWithBuilds(db: Database): Promise<FormationApp[]> {
  return db
    .selectFrom('apps')
    .selectAll()
    .where((eb) => eb.exists(eb.selectFrom('releases').select('releases.uuid').whereRef('releases.app_uuid', '=', 'apps.uuid').where('releases.build_uuid', 'is not', null)))
    .orderBy('id')
    .execute();
}
