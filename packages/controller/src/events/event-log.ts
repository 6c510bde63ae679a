/**
 * The controller's own events per app (`deis[controller]: INFO …` lines of Deis's log format), kept in the store and
 * served with the app's logs.
 * @module
 */
import { storeTime } from '../clock.ts';
import type { Database } from '../db/schema.ts';

/** `2016-09-01T12:00:00+00:00`: the logger's timestamp form. */
function logTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

export async function recordEvent(db: Database, appUuid: string, message: string, at: Date = new Date()): Promise<void> {
  const line = `${logTime(at)} deis[controller]: INFO ${message}`;
  await db.insertInto('log_lines').values({ app_uuid: appUuid, created: storeTime(at), line }).execute();
  for (const listener of eventListeners.get(appUuid) ?? []) listener({ at: at.getTime(), text: line });
}

/**
 * Who follows an app's events as they are recorded (`deis logs -f`, log drains). Kept here, not passed down, because
 * events are recorded deep inside transactions all over the controller; app uuids are never reused, so listeners of
 * two controllers in one process (tests) never hear each other's apps.
 */
const eventListeners = new Map<string, Set<(line: { at: number; text: string }) => void>>();

/** Calls `listener` with each event line recorded for the app from now on; returns a function that stops it. */
export function onAppEvent(appUuid: string, listener: (line: { at: number; text: string }) => void): () => void {
  let listeners = eventListeners.get(appUuid);
  if (!listeners) eventListeners.set(appUuid, (listeners = new Set()));
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && eventListeners.get(appUuid) === listeners) eventListeners.delete(appUuid);
  };
}

/** The newest `count` event lines of an app, oldest first. */
export async function recentEvents(db: Database, appUuid: string, count: number): Promise<{ created: string; line: string }[]> {
  const rows = await db
    .selectFrom('log_lines')
    .select(['created', 'line'])
    .where('app_uuid', '=', appUuid)
    .orderBy('id', 'desc')
    .limit(count)
    .execute();
  return rows.reverse();
}
