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
  await db
    .insertInto('log_lines')
    .values({ app_uuid: appUuid, created: storeTime(at), line: `${logTime(at)} deis[controller]: INFO ${message}` })
    .execute();
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
