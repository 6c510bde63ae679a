/**
 * Apps in the store, and who may use them.
 * @module
 */
import type { Selectable } from 'kysely';
import type { App } from '@deis/sdk/types';
import { wireTime } from '../clock.ts';
import type { AppsTable, Database } from '../db/schema.ts';

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

export async function findAppById(db: Database, id: string): Promise<(AppRow & { owner_username: string }) | undefined> {
  return db
    .selectFrom('apps')
    .innerJoin('users', 'users.id', 'apps.owner_id')
    .selectAll('apps')
    .select('users.username as owner_username')
    .where('apps.id', '=', id)
    .executeTakeFirst();
}

export async function isCollaborator(db: Database, appUuid: string, userId: number): Promise<boolean> {
  const row = await db.selectFrom('perms').select('user_id').where('app_uuid', '=', appUuid).where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}
