/**
 * Users' SSH keys in the store.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Key } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import { selectWithOwner } from '../db/owned-rows.ts';
import type { WithOwner } from '../db/owned-rows.ts';
import type { Database, KeysTable } from '../db/schema.ts';

export type KeyRow = Selectable<KeysTable>;
export type KeyRowWithOwner = WithOwner<'keys'>;

export function toWireKey(row: KeyRow, ownerUsername: string): Key {
  return {
    uuid: row.uuid,
    owner: ownerUsername,
    id: row.id,
    public: row.public,
    fingerprint: row.fingerprint,
    created: wireTime(row.created),
    updated: wireTime(row.updated),
  };
}

export async function countKeysOf(db: Database, ownerId: number): Promise<number> {
  const row = await db.selectFrom('keys').select((eb) => eb.fn.countAll<number | string>().as('count')).where('owner_id', '=', ownerId).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** One page of a user's keys, ordered by the key text as Deis orders them. */
export async function listKeysOf(db: Database, ownerId: number, window: { limit: number; offset: number }): Promise<KeyRow[]> {
  return db.selectFrom('keys').selectAll().where('owner_id', '=', ownerId).orderBy('public').orderBy('uuid').limit(window.limit).offset(window.offset).execute();
}

export async function findKeyOf(db: Database, ownerId: number, id: string): Promise<KeyRow | undefined> {
  return db.selectFrom('keys').selectAll().where('owner_id', '=', ownerId).where('id', '=', id).executeTakeFirst();
}

export async function keyIdTaken(db: Database, id: string): Promise<boolean> {
  return (await db.selectFrom('keys').select('uuid').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/**
 * Whether the key is stored already, as the same text or as the same key blob with another comment: one key must
 * name one user, or a push could not tell whose it is.
 */
export async function publicKeyInUse(db: Database, publicText: string, fingerprint: string): Promise<boolean> {
  const row = await db
    .selectFrom('keys')
    .select('uuid')
    .where((eb) => eb.or([eb('public', '=', publicText), eb('fingerprint', '=', fingerprint)]))
    .executeTakeFirst();
  return row !== undefined;
}

/** Keys are listed to the builder oldest first, so two keys added within one millisecond still get distinct times. */
async function nextCreatedTime(db: Database): Promise<string> {
  const newest = await db.selectFrom('keys').select('created').orderBy('created', 'desc').limit(1).executeTakeFirst();
  const now = new Date();
  if (newest && newest.created >= storeTime(now)) return storeTime(new Date(Date.parse(newest.created) + 1));
  return storeTime(now);
}

export async function insertKey(db: Database, key: { ownerId: number; id: string; public: string; fingerprint: string }): Promise<KeyRow> {
  const now = await nextCreatedTime(db);
  return db
    .insertInto('keys')
    .values({ uuid: randomUUID(), owner_id: key.ownerId, id: key.id, public: key.public, fingerprint: key.fingerprint, created: now, updated: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteKey(db: Database, uuid: string): Promise<void> {
  await db.deleteFrom('keys').where('uuid', '=', uuid).execute();
}

export async function findKeyByFingerprint(db: Database, fingerprint: string): Promise<KeyRowWithOwner | undefined> {
  return selectWithOwner(db, 'keys').where('keys.fingerprint', '=', fingerprint).where('users.is_active', '=', 1).orderBy('keys.created').executeTakeFirst();
}

/** The keys of the given users, oldest first. */
export async function keysOfUsers(db: Database, userIds: number[]): Promise<KeyRowWithOwner[]> {
  if (userIds.length === 0) return [];
  return selectWithOwner(db, 'keys')
    .where('keys.owner_id', 'in', userIds)
    .orderBy('keys.created')
    .orderBy('keys.uuid')
    .execute();
}
