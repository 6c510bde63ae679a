/**
 * Versioned tables (app settings, TLS): every change writes a whole new row, and the app's row with the newest
 * `created` is the one in force.
 * @module
 */
import type { Selectable } from 'kysely';
import { selectWithOwner } from './owned-rows.ts';
import type { WithOwner } from './owned-rows.ts';
import type { Database, Schema } from './schema.ts';

export type VersionedTable = 'app_settings' | 'tls';

/** The row in force of one app, with its owner's name. */
export async function latestAppRow<T extends VersionedTable>(db: Database, table: T, appUuid: string): Promise<WithOwner<T> | undefined> {
  // Built on the union of the tables: Kysely cannot type a column reference made from a generic table name.
  const versioned: VersionedTable = table;
  const row = await selectWithOwner(db, versioned).where(`${versioned}.app_uuid`, '=', appUuid).orderBy(`${versioned}.created`, 'desc').limit(1).executeTakeFirst();
  return row as WithOwner<T> | undefined;
}

/** The row in force of every app that has one, in a single query. */
export async function latestRowOfEveryApp<T extends VersionedTable>(db: Database, table: T): Promise<Selectable<Schema[T]>[]> {
  const versioned: VersionedTable = table;
  const rows = await db
    .selectFrom(versioned)
    .innerJoin(
      (eb) => eb.selectFrom(versioned).select(['app_uuid', (inner) => inner.fn.max('created').as('latest')]).groupBy('app_uuid').as('m'),
      (join) => join.onRef('m.app_uuid', '=', `${versioned}.app_uuid`).onRef('m.latest', '=', `${versioned}.created`),
    )
    .selectAll(versioned)
    .execute();
  return rows as Selectable<Schema[T]>[];
}
