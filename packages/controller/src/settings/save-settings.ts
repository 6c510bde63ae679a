/**
 * Writing a new version of an app's settings, whichever endpoint asked for it (`settings/` or `whitelist/`): the new
 * row, the event line, and the routing table's generation when the router must serve something different.
 * @module
 */
import { appLocksOf } from '../db/app-locks.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { changeSettings } from './settings-change.ts';
import { currentSettings, insertSettings, settingsValues } from './settings-store.ts';
import type { SettingsRow, SettingsValues } from './settings-store.ts';

/**
 * Stores the app's next settings: `body` is the request, or made from the settings in force (the whitelist's routes).
 * It runs under the app's change lock (db/app-locks.ts), so that concurrent changes, through this controller or
 * another on the store, build on each other instead of one undoing the other.
 */
export async function saveSettings(
  deps: ControllerDeps,
  app: { uuid: string; id: string; owner_id: number },
  user: { id: number; username: string },
  body: Record<string, unknown> | ((current: SettingsValues) => Record<string, unknown>),
): Promise<SettingsRow> {
  const { row, routingChanged } = await appLocksOf(deps.db).transaction(deps.db, `change:${app.uuid}`, async (trx) => {
    const previous = await currentSettings(trx, app);
    const values = settingsValues(previous);
    const { next, routingChanged } = changeSettings(values, typeof body === 'function' ? body(values) : body, user.username);
    const row = await insertSettings(trx, app.uuid, user.id, next, previous);
    await recordEvent(trx, app.uuid, `appsettings ${app.id}-${row.uuid.slice(0, 7)} updated`);
    return { row, routingChanged };
  });
  if (routingChanged) deps.routing.changed();
  return row;
}
