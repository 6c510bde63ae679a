/**
 * A comparable snapshot of every table of the store, for tests that check a refused request changed nothing: rows as
 * JSON, sorted, so that SQLite and PostgreSQL (which return rows in no fixed order) give equal dumps for equal data.
 * Used only by `*.test.ts` files.
 * @module
 */
import type { Database, Schema } from '../db/schema.ts';

/** Every table of the schema; `satisfies` makes a table added to `Schema` and not here a type error. */
const TABLES = {
  users: true,
  tokens: true,
  keys: true,
  apps: true,
  perms: true,
  configs: true,
  builds: true,
  releases: true,
  domains: true,
  certs: true,
  app_settings: true,
  tls: true,
  log_lines: true,
  log_drains: true,
  rollout_marks: true,
  routing_changes: true,
  router_confirmations: true,
} as const satisfies Record<keyof Schema, true>;

export type StoreDump = Record<string, string[]>;

export async function dumpStore(db: Database): Promise<StoreDump> {
  const dump: StoreDump = {};
  for (const table of Object.keys(TABLES) as (keyof Schema)[]) {
    const rows = await db.selectFrom(table).selectAll().execute();
    dump[table] = rows.map((row) => JSON.stringify(row, Object.keys(row).sort())).sort();
  }
  return dump;
}

/** The tables whose rows differ between two dumps, each with the rows only one side has; empty when equal. */
export function storeChanges(before: StoreDump, after: StoreDump): Record<string, { gone: string[]; added: string[] }> {
  const changes: Record<string, { gone: string[]; added: string[] }> = {};
  for (const table of Object.keys(before)) {
    const was = new Set(before[table]);
    const now = new Set(after[table]);
    const gone = [...was].filter((row) => !now.has(row));
    const added = [...now].filter((row) => !was.has(row));
    if (gone.length > 0 || added.length > 0) changes[table] = { gone, added };
  }
  return changes;
}
