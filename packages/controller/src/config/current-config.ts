/**
 * The config in force: the one of the app's newest release that did not fail (a failed deploy leaves the previous
 * config serving, and that is what clients read and what the next change builds on).
 * @module
 */
import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.ts';
import { latestGoodRelease } from '../releases/release-store.ts';
import type { ReleaseRow } from '../releases/release-store.ts';
import type { ConfigData } from './config-data.ts';
import { configDataOf, findConfig } from './config-store.ts';
import type { ConfigRow } from './config-store.ts';

export interface CurrentConfig {
  release: ReleaseRow;
  config: ConfigRow & { owner_username: string; data: ConfigData };
}

export async function currentConfig(db: Kysely<Schema>, appUuid: string): Promise<CurrentConfig> {
  const release = await latestGoodRelease(db, appUuid);
  // Every app has release v1, which cannot fail (it has no build to deploy).
  if (!release) throw new Error(`app ${appUuid} has no release`);
  const config = await findConfig(db, release.config_uuid);
  if (!config) throw new Error(`release ${release.uuid} has no config`);
  return { release, config: { ...config, data: configDataOf(config) } };
}
