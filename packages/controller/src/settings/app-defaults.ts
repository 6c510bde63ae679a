/**
 * What a new app starts with besides its config and first release (contract §1.4 "App create side effects"): settings
 * (not in maintenance, routable, no whitelist), a TLS row with `https_enforced` unset, and the domain that is the
 * bare app id (served as `<app>.<platform domain>`).
 * @module
 */
import type { Database } from '../db/schema.ts';
import { insertDomain } from '../domains/domain-store.ts';
import { insertTls } from '../tls/tls-store.ts';
import { DEFAULT_SETTINGS, insertSettings } from './settings-store.ts';

/** @returns the uuid of the settings row, which names it in the app's events */
export async function createAppDefaults(db: Database, app: { uuid: string; id: string; owner_id: number }): Promise<{ settingsUuid: string }> {
  const settings = await insertSettings(db, app.uuid, app.owner_id, { ...DEFAULT_SETTINGS, whitelist: [], autoscale: {}, label: {} });
  await insertTls(db, app.uuid, app.owner_id, null);
  await insertDomain(db, { appUuid: app.uuid, ownerId: app.owner_id, domain: app.id });
  return { settingsUuid: settings.uuid };
}
