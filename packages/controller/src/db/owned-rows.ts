/**
 * Rows that have an owner (`owner_id`), read together with the owner's username, which is what the wire shows as
 * `owner`. One join for every such table, so that no store spells it differently.
 * @module
 */
import { sql } from 'kysely';
import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { PageWindow } from '../http/pagination.ts';
import type { Database, Schema } from './schema.ts';

/** The tables whose rows carry an `owner_id` and an `app_uuid`. */
export type AppOwnedTable = 'app_settings' | 'builds' | 'configs' | 'releases' | 'tls';
/** Every table whose rows carry an `owner_id`. */
export type OwnedTable = AppOwnedTable | 'apps' | 'certs' | 'keys';

export type WithOwner<T extends OwnedTable> = Selectable<Schema[T]> & { owner_username: string };

/** `select <table>.*, users.username as owner_username from <table> join users`. */
export function selectWithOwner<T extends OwnedTable>(db: Database, table: T): SelectQueryBuilder<Schema, T | 'users', WithOwner<T>> {
  // Kysely cannot type a column reference built from a generic table name: the query is built on the union of the
  // tables, and its rows are those of T.
  const owned: OwnedTable = table;
  return db.selectFrom(owned).innerJoin('users', 'users.id', `${owned}.owner_id`).selectAll(owned).select('users.username as owner_username') as unknown as SelectQueryBuilder<
    Schema,
    T | 'users',
    WithOwner<T>
  >;
}

/** One page of an app's rows with their owners' names, ordered by `orderBy` descending (newest first), and the count. */
export async function pageOfAppRows<T extends AppOwnedTable>(
  db: Database,
  table: T,
  appUuid: string,
  orderBy: Extract<keyof Schema[T], 'created' | 'version'>,
  window: PageWindow,
): Promise<{ count: number; rows: WithOwner<T>[] }> {
  const owned: AppOwnedTable = table;
  const counted = await db.selectFrom(owned).select((eb) => eb.fn.countAll<number | string>().as('count')).where('app_uuid', '=', appUuid).executeTakeFirstOrThrow();
  const rows = await selectWithOwner(db, owned)
    .where(`${owned}.app_uuid`, '=', appUuid)
    .orderBy(sql.ref(`${owned}.${orderBy}`), 'desc')
    .limit(window.limit)
    .offset(window.offset)
    .execute();
  return { count: Number(counted.count), rows: rows as WithOwner<T>[] };
}
