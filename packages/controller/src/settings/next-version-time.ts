/**
 * The creation time of a new versioned row (app settings, TLS). "Latest" is the newest `created`, and two changes can
 * land in the same millisecond, so a new row is always stamped strictly after the row it supersedes.
 * @module
 */
import { storeTime } from '../clock.ts';

export function nextVersionTime(previous: string | undefined, now: Date = new Date()): string {
  if (previous !== undefined && now.getTime() <= Date.parse(previous)) return storeTime(new Date(Date.parse(previous) + 1));
  return storeTime(now);
}
