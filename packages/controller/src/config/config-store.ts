/**
 * Config rows in the store: one immutable row per change, referenced by releases.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Config } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import { selectWithOwner } from '../db/owned-rows.ts';
import type { WithOwner } from '../db/owned-rows.ts';
import type { ConfigsTable, Schema } from '../db/schema.ts';
import type { ConfigData } from './config-data.ts';

export type ConfigRow = Selectable<ConfigsTable>;

export function configDataOf(row: ConfigRow): ConfigData {
  return {
    values: JSON.parse(row.values) as ConfigData['values'],
    memory: JSON.parse(row.memory) as ConfigData['memory'],
    cpu: JSON.parse(row.cpu) as ConfigData['cpu'],
    tags: JSON.parse(row.tags) as ConfigData['tags'],
    registry: JSON.parse(row.registry) as ConfigData['registry'],
    healthcheck: JSON.parse(row.healthcheck) as ConfigData['healthcheck'],
  };
}

export function toWireConfig(row: ConfigRow, ownerUsername: string, appId: string): Config {
  return {
    uuid: row.uuid,
    owner: ownerUsername,
    app: appId,
    ...configDataOf(row),
    created: wireTime(row.created),
    updated: wireTime(row.updated),
  };
}

export async function findConfig(db: Kysely<Schema>, uuid: string): Promise<WithOwner<'configs'> | undefined> {
  return selectWithOwner(db, 'configs').where('configs.uuid', '=', uuid).executeTakeFirst();
}

/**
 * Stores a new config row. `created` is kept after the app's newest config so that "newest first" stays exact even
 * for two changes within one millisecond.
 */
export async function insertConfig(db: Kysely<Schema>, appUuid: string, ownerId: number, data: ConfigData): Promise<ConfigRow> {
  const newest = await db.selectFrom('configs').select('created').where('app_uuid', '=', appUuid).orderBy('created', 'desc').limit(1).executeTakeFirst();
  const now = new Date();
  const created = newest && newest.created >= storeTime(now) ? storeTime(new Date(Date.parse(newest.created) + 1)) : storeTime(now);
  const row: ConfigRow = {
    uuid: randomUUID(),
    app_uuid: appUuid,
    owner_id: ownerId,
    values: JSON.stringify(data.values),
    memory: JSON.stringify(data.memory),
    cpu: JSON.stringify(data.cpu),
    tags: JSON.stringify(data.tags),
    registry: JSON.stringify(data.registry),
    healthcheck: JSON.stringify(data.healthcheck),
    created,
    updated: created,
  };
  await db.insertInto('configs').values(row).execute();
  return row;
}
