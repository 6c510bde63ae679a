/**
 * An app's TLS setting (`https_enforced`) in the store: versioned rows like app settings, newest first. An app that
 * has no row yet gets one (`null`, owned by the app's owner) on first read.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Tls } from '@deis/sdk/types';
import { wireTime } from '../clock.ts';
import { latestAppRow } from '../db/versioned-rows.ts';
import type { Database, TlsTable } from '../db/schema.ts';
import { nextVersionTime } from '../settings/next-version-time.ts';

export type TlsRow = Selectable<TlsTable> & { owner_username: string };

export function httpsEnforced(row: Selectable<TlsTable>): boolean | null {
  return row.https_enforced === null ? null : Boolean(row.https_enforced);
}

export function toWireTls(row: TlsRow, appId: string): Tls {
  return { uuid: row.uuid, owner: row.owner_username, app: appId, https_enforced: httpsEnforced(row), created: wireTime(row.created), updated: wireTime(row.updated) };
}

export async function latestTls(db: Database, appUuid: string): Promise<TlsRow | undefined> {
  return latestAppRow(db, 'tls', appUuid);
}

export async function insertTls(db: Database, appUuid: string, ownerId: number, enforced: boolean | null, previous?: { created: string }): Promise<TlsRow> {
  const created = nextVersionTime(previous?.created);
  await db
    .insertInto('tls')
    .values({ uuid: randomUUID(), app_uuid: appUuid, owner_id: ownerId, https_enforced: enforced === null ? null : enforced ? 1 : 0, created, updated: created })
    .execute();
  const row = await latestTls(db, appUuid);
  if (!row) throw new Error('tls row vanished after insert');
  return row;
}

export async function currentTls(db: Database, app: { uuid: string; owner_id: number }): Promise<TlsRow> {
  return (await latestTls(db, app.uuid)) ?? insertTls(db, app.uuid, app.owner_id, null);
}
