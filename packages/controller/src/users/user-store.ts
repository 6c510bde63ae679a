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
import type { Database, UsersTable } from '../db/schema.ts';

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

/** Replaces the user's token; the old one stops working at once. Returns the new plain token. */
export async function issueToken(db: Database, userId: number): Promise<string> {
  const token = newToken();
  await db.deleteFrom('tokens').where('user_id', '=', userId).execute();
  await db.insertInto('tokens').values({ user_id: userId, token_hash: hashToken(token), created: storeTime() }).execute();
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
