/**
 * Users and their API tokens in the store. Tokens are stored only as SHA-256 hashes; the plain token exists once,
 * in the response that creates it.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { User } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import { hashPassword } from './password.ts';
import type { Database, Schema, UsersTable } from '../db/schema.ts';

export type UserRow = Selectable<UsersTable>;

export function toWireUser(row: UserRow): User {
  return {
    username: row.username,
    email: row.email,
    first_name: row.first_name,
    last_name: row.last_name,
    is_superuser: Boolean(row.is_superuser),
    is_staff: Boolean(row.is_staff),
    is_active: Boolean(row.is_active),
    last_login: wireTime(row.last_login),
    date_joined: wireTime(row.date_joined),
    groups: [],
    user_permissions: [],
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A DRF-style token: 40 hex characters. */
export function newToken(): string {
  return randomBytes(20).toString('hex');
}

export async function findUserByTokenHash(db: Database, tokenHash: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .selectAll('users')
    .where('tokens.token_hash', '=', tokenHash)
    .where('users.is_active', '=', 1)
    .executeTakeFirst();
}

export async function findUserByUsername(db: Database, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

/** Replaces all the user's tokens with one new one; the old ones stop working at once. Returns the new plain token. */
export async function issueToken(db: Database, userId: number): Promise<string> {
  const token = newToken();
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('tokens').where('user_id', '=', userId).execute();
    await trx.insertInto('tokens').values({ user_id: userId, token_hash: hashToken(token), created: storeTime() }).execute();
  });
  return token;
}

/** Logins a user may keep at once; a new login past this ends the oldest. */
export const MAX_TOKENS_PER_USER = 20;

/** A token for one more login, beside the user's other tokens. Returns the new plain token. */
export async function addToken(db: Database, userId: number): Promise<string> {
  const token = newToken();
  await db.insertInto('tokens').values({ user_id: userId, token_hash: hashToken(token), created: storeTime() }).execute();
  await db
    .deleteFrom('tokens')
    .where('user_id', '=', userId)
    .where('token_hash', 'not in', (eb) => eb.selectFrom('tokens').select('token_hash').where('user_id', '=', userId).orderBy('created', 'desc').orderBy('token_hash').limit(MAX_TOKENS_PER_USER))
    .execute();
  return token;
}

export interface NewUser {
  username: string;
  password: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  isSuperuser?: boolean;
}

/** Creates a user and their first token; returns the row and the plain token. */
export async function insertUser(db: Database, user: NewUser): Promise<{ row: UserRow; token: string }> {
  const passwordHash = await hashPassword(user.password);
  const row = await db
    .insertInto('users')
    .values({
      username: user.username,
      email: user.email ?? '',
      first_name: user.firstName ?? '',
      last_name: user.lastName ?? '',
      password_hash: passwordHash,
      is_superuser: user.isSuperuser ? 1 : 0,
      is_staff: user.isSuperuser ? 1 : 0,
      is_active: 1,
      last_login: null,
      date_joined: storeTime(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const token = await issueToken(db, row.id);
  return { row, token };
}

export async function countUsers(db: Database): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** One page of users in the order they joined. */
export async function listUsers(db: Database, window: { limit: number; offset: number }): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('id').limit(window.limit).offset(window.offset).execute();
}

/** Active superusers, for `/v2/admin/perms` and the rules that keep at least one. */
export async function listActiveAdmins(db: Database): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().where('is_superuser', '=', 1).where('is_active', '=', 1).orderBy('id').execute();
}

/** Without an admin, admin_only registration would let anyone in as the next "first" user: callers keep one. */
export async function isLastAdmin(db: Database, user: UserRow): Promise<boolean> {
  if (!user.is_superuser || !user.is_active) return false;
  const admins = await listActiveAdmins(db);
  return admins.every((admin) => admin.id === user.id);
}

export async function anyAdminExists(db: Database): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('is_superuser', '=', 1).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Sets the password and ends every token of the user but `keepTokenHash` (the session that changed it): a password
 * changed because it leaked must also shut out whoever logged in with it.
 */
export async function setPassword(db: Database, userId: number, password: string, keepTokenHash: string | null = null): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
    let tokens = trx.deleteFrom('tokens').where('user_id', '=', userId);
    if (keepTokenHash !== null) tokens = tokens.where('token_hash', '!=', keepTokenHash);
    await tokens.execute();
  });
}

/** Makes the user an admin or not; Deis keeps `is_staff` equal to `is_superuser`. */
export async function setSuperuser(db: Database, userId: number, superuser: boolean): Promise<void> {
  await db.updateTable('users').set({ is_superuser: superuser ? 1 : 0, is_staff: superuser ? 1 : 0 }).where('id', '=', userId).execute();
}

export async function recordLogin(db: Database, userId: number, at: Date = new Date()): Promise<void> {
  await db.updateTable('users').set({ last_login: storeTime(at) }).where('id', '=', userId).execute();
}

/** Every user's token stops working; each gets a new one at their next login. */
export async function revokeAllTokens(db: Database): Promise<void> {
  await db.deleteFrom('tokens').execute();
}

export async function countAppsOwnedBy(db: Database, userId: number): Promise<number> {
  const row = await db.selectFrom('apps').select((eb) => eb.fn.countAll<number | string>().as('count')).where('owner_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function countCertsOwnedBy(db: Database, userId: number): Promise<number> {
  const row = await db.selectFrom('certs').select((eb) => eb.fn.countAll<number | string>().as('count')).where('owner_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The per-app tables whose rows name the user who made them. */
const APP_OWNED_TABLES = ['configs', 'builds', 'releases', 'domains', 'app_settings', 'tls'] as const satisfies readonly (keyof Schema)[];

/**
 * Deletes a user who owns no app and no certificate. What they made as a collaborator on others' apps (releases,
 * configs, …) passes to each app's owner, so history stays and the store's references stay whole. Their token, keys
 * and collaborations go with them.
 */
export async function deleteUser(db: Database, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const table of APP_OWNED_TABLES) {
      await trx
        .updateTable(table)
        .set((eb) => ({ owner_id: eb.selectFrom('apps').select('apps.owner_id').whereRef('apps.uuid', '=', eb.ref(`${table}.app_uuid`)) }))
        .where('owner_id', '=', userId)
        .execute();
    }
    await trx.deleteFrom('users').where('id', '=', userId).execute();
  });
}
