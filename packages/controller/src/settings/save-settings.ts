/**
 * Writing a new version of an app's settings, whichever endpoint asked for it (`settings/` or `whitelist/`): the new
 * row, the event line, and the routing table's generation when the router must serve something different.
 * @module
 */
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { changeSettings } from './settings-change.ts';
import { currentSettings, insertSettings, settingsValues } from './settings-store.ts';
import type { SettingsRow } from './settings-store.ts';

export async function saveSettings(
  deps: ControllerDeps,
  app: { uuid: string; id: string; owner_id: number },
  user: { id: number; username: string },
  body: Record<string, unknown>,
): Promise<SettingsRow> {
  const previous = await currentSettings(deps.db, app);
  const { next, routingChanged } = changeSettings(settingsValues(previous), body, user.username);
  const row = await insertSettings(deps.db, app.uuid, user.id, next, previous);
  if (routingChanged) deps.routing.changed();
  await recordEvent(deps.db, app.uuid, `appsettings ${app.id}-${row.uuid.slice(0, 7)} updated`);
  return row;
}
