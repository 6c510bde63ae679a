/**
 * Opens the store: SQLite in a file (the embedded default; nothing to install or start) or PostgreSQL when given a
 * `postgres://` URL. Both go through the same query layer and migrations.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { InProcessAppLocks, PostgresAppLocks, registerAppLocks } from './app-locks.ts';
import type { AppLocks } from './app-locks.ts';
import { migrateToLatest } from './migrations.ts';
import type { Database, Schema } from './schema.ts';

export interface OpenedDatabase {
  db: Database;
  dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/**
 * @param location `postgres://…` or `postgresql://…` for PostgreSQL; otherwise a SQLite file path, or `:memory:`.
 */
export async function openDatabase(location: string): Promise<OpenedDatabase> {
  const isPostgres = /^postgres(ql)?:\/\//.test(location);
  let db: Database;
  if (isPostgres) {
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: location, max: 10 }) }) });
  } else {
    if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
    const sqlite = new BetterSqlite3(location);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  const dialect = isPostgres ? 'postgres' : 'sqlite';
  await migrateToLatest(db as Kysely<unknown>, dialect);
  // Several controllers may share a PostgreSQL store; a SQLite file has one (ADR 0016).
  const locks: AppLocks = isPostgres ? new PostgresAppLocks(location) : new InProcessAppLocks();
  registerAppLocks(db, locks);
  return {
    db,
    dialect,
    close: async () => {
      await locks.close();
      await db.destroy();
    },
  };
}
