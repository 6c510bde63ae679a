/**
 * Apps in the store, and who may use them.
 * @module
 */
import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { App } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import { selectWithOwner } from '../db/owned-rows.ts';
import type { WithOwner } from '../db/owned-rows.ts';
import type { AppsTable, Database, Schema } from '../db/schema.ts';

export type AppRow = Selectable<AppsTable>;

export function toWireApp(row: AppRow, ownerUsername: string): App {
  return {
    uuid: row.uuid,
    id: row.id,
    owner: ownerUsername,
    structure: JSON.parse(row.structure) as Record<string, number>,
    created: wireTime(row.created),
    updated: wireTime(row.updated),
  };
}

export async function findAppById(db: Database, id: string): Promise<VisibleApp | undefined> {
  return selectWithOwner(db, 'apps').where('apps.id', '=', id).executeTakeFirst();
}

export async function isCollaborator(db: Database, appUuid: string, userId: number): Promise<boolean> {
  const row = await db.selectFrom('perms').select('user_id').where('app_uuid', '=', appUuid).where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

export type VisibleApp = WithOwner<'apps'>;

/** One page of the apps `user` may see, ordered by id: an admin sees all, others what they own or collaborate on. */
export async function listVisibleApps(
  db: Database,
  user: { id: number; is_superuser: number },
  limit: number,
  offset: number,
): Promise<{ count: number; rows: VisibleApp[] }> {
  const scoped = <Q extends SelectQueryBuilder<Schema, 'apps', object>>(query: Q): Q =>
    user.is_superuser
      ? query
      : (query.where((eb) =>
          eb.or([eb('apps.owner_id', '=', user.id), eb('apps.uuid', 'in', eb.selectFrom('perms').select('perms.app_uuid').where('perms.user_id', '=', user.id))]),
        ) as Q);
  // Every app has an owner (a foreign key), so the count needs no join.
  const counted = await scoped(db.selectFrom('apps').select((eb) => eb.fn.countAll<number | string>().as('count'))).executeTakeFirstOrThrow();
  const rows = await scoped(selectWithOwner(db, 'apps'))
    .orderBy('apps.id')
    .limit(limit)
    .offset(offset)
    .execute();
  return { count: Number(counted.count), rows };
}

export async function appIdTaken(db: Database, id: string): Promise<boolean> {
  return (await db.selectFrom('apps').select('uuid').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/**
 * Gives the app to `newOwnerId`, and with it every row of the app the old owner owned (Deis moves settings, builds,
 * configs, domains, releases and TLS along).
 */
export async function transferApp(db: Database, app: AppRow, newOwnerId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const table of ['app_settings', 'builds', 'configs', 'domains', 'releases', 'tls'] as const) {
      await trx.updateTable(table).set({ owner_id: newOwnerId }).where('app_uuid', '=', app.uuid).where('owner_id', '=', app.owner_id).execute();
    }
    await trx.updateTable('apps').set({ owner_id: newOwnerId, updated: storeTime() }).where('uuid', '=', app.uuid).execute();
  });
}

/** Deletes the app and everything of it in the store; releases go first, as they point at builds and configs. */
export async function deleteAppRows(db: Database, appUuid: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('releases').where('app_uuid', '=', appUuid).execute();
    await trx.deleteFrom('apps').where('uuid', '=', appUuid).execute();
  });
}
