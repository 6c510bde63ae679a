/**
 * App settings in the store: versioned rows, newest first; every change writes a whole new row. An app that has no
 * row yet (made before its defaults were written) gets the defaults on first read.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AppSettings, Autoscale } from '@deis/sdk/types';
import { wireTime } from '../clock.ts';
import { latestAppRow } from '../db/versioned-rows.ts';
import type { AppSettingsTable, Database } from '../db/schema.ts';
import { nextVersionTime } from './next-version-time.ts';

export interface SettingsValues {
  maintenance: boolean;
  routable: boolean;
  whitelist: string[];
  autoscale: Record<string, Autoscale>;
  label: Record<string, string>;
}

export type SettingsRow = Selectable<AppSettingsTable> & { owner_username: string };

export const DEFAULT_SETTINGS: Readonly<SettingsValues> = Object.freeze({ maintenance: false, routable: true, whitelist: [], autoscale: {}, label: {} });

export function settingsValues(row: Selectable<AppSettingsTable>): SettingsValues {
  return {
    maintenance: Boolean(row.maintenance),
    routable: Boolean(row.routable),
    whitelist: JSON.parse(row.whitelist) as string[],
    autoscale: JSON.parse(row.autoscale) as Record<string, Autoscale>,
    label: JSON.parse(row.label) as Record<string, string>,
  };
}

export function toWireSettings(row: SettingsRow, appId: string): AppSettings {
  return { uuid: row.uuid, owner: row.owner_username, app: appId, ...settingsValues(row), created: wireTime(row.created), updated: wireTime(row.updated) };
}

export async function latestSettings(db: Database, appUuid: string): Promise<SettingsRow | undefined> {
  return latestAppRow(db, 'app_settings', appUuid);
}

export async function insertSettings(db: Database, appUuid: string, ownerId: number, values: SettingsValues, previous?: { created: string }): Promise<SettingsRow> {
  const created = nextVersionTime(previous?.created);
  await db
    .insertInto('app_settings')
    .values({
      uuid: randomUUID(),
      app_uuid: appUuid,
      owner_id: ownerId,
      maintenance: values.maintenance ? 1 : 0,
      routable: values.routable ? 1 : 0,
      whitelist: JSON.stringify(values.whitelist),
      autoscale: JSON.stringify(values.autoscale),
      label: JSON.stringify(values.label),
      created,
      updated: created,
    })
    .execute();
  const row = await latestSettings(db, appUuid);
  if (!row) throw new Error('app settings row vanished after insert');
  return row;
}

/** The app's current settings, writing the defaults (owned by the app's owner) if it has none yet. */
export async function currentSettings(db: Database, app: { uuid: string; owner_id: number }): Promise<SettingsRow> {
  return (await latestSettings(db, app.uuid)) ?? insertSettings(db, app.uuid, app.owner_id, { ...DEFAULT_SETTINGS, whitelist: [], autoscale: {}, label: {} });
}
