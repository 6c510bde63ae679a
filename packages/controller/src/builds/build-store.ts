/**
 * Build rows in the store: an image plus its Procfile, from a git push or `deis pull`.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Build } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import { pageOfAppRows } from '../db/owned-rows.ts';
import type { WithOwner } from '../db/owned-rows.ts';
import type { BuildsTable, Schema } from '../db/schema.ts';
import type { PageWindow } from '../http/pagination.ts';

export type BuildRow = Selectable<BuildsTable>;

export interface NewBuild {
  image: string;
  sha: string;
  procfile: Record<string, string>;
  dockerfile: string;
  /** The builder's request id (its hook's), when the build comes from a push. */
  requestId?: string;
}

export function procfileOf(row: BuildRow): Record<string, string> {
  return JSON.parse(row.procfile) as Record<string, string>;
}

export function toWireBuild(row: BuildRow, ownerUsername: string, appId: string): Build {
  return {
    uuid: row.uuid,
    owner: ownerUsername,
    app: appId,
    image: row.image,
    sha: row.sha,
    procfile: procfileOf(row),
    dockerfile: row.dockerfile,
    created: wireTime(row.created),
    updated: wireTime(row.updated),
  };
}

export async function findBuild(db: Kysely<Schema>, uuid: string): Promise<BuildRow | undefined> {
  return db.selectFrom('builds').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

export async function newestBuild(db: Kysely<Schema>, appUuid: string): Promise<BuildRow | undefined> {
  return db.selectFrom('builds').selectAll().where('app_uuid', '=', appUuid).orderBy('created', 'desc').limit(1).executeTakeFirst();
}

/** `created` stays after the app's newest build so that "newest first" is exact even within one millisecond. */
export async function insertBuild(db: Kysely<Schema>, appUuid: string, ownerId: number, build: NewBuild): Promise<BuildRow> {
  const newest = await newestBuild(db, appUuid);
  const now = storeTime();
  const created = newest && newest.created >= now ? storeTime(new Date(Date.parse(newest.created) + 1)) : now;
  const row: BuildRow = {
    uuid: randomUUID(),
    app_uuid: appUuid,
    owner_id: ownerId,
    image: build.image,
    sha: build.sha,
    procfile: JSON.stringify(build.procfile),
    dockerfile: build.dockerfile,
    created,
    updated: created,
    request_id: build.requestId ?? null,
  };
  await db.insertInto('builds').values(row).execute();
  return row;
}

/** The app's build a builder's hook call with this request id made, if any. */
export async function findBuildByRequest(db: Kysely<Schema>, appUuid: string, requestId: string): Promise<BuildRow | undefined> {
  return db.selectFrom('builds').selectAll().where('app_uuid', '=', appUuid).where('request_id', '=', requestId).executeTakeFirst();
}

export async function deleteBuild(db: Kysely<Schema>, uuid: string): Promise<void> {
  await db.deleteFrom('builds').where('uuid', '=', uuid).execute();
}

/** One page of an app's builds, newest first, with their owners' names. */
export async function listBuilds(db: Kysely<Schema>, appUuid: string, window: PageWindow): Promise<{ count: number; rows: WithOwner<'builds'>[] }> {
  return pageOfAppRows(db, 'builds', appUuid, 'created', window);
}
