/**
 * A deploy a crash or a stop interrupted leaves its release looking good, half rolled out. At start, before anything
 * reconciles, such releases are marked failed, so the reconciler brings back the release that was serving rather
 * than adopting one nobody saw succeed (and whose pusher was never told).
 * @module
 */
import { storeTime } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { recordEvent } from '../events/event-log.ts';

export const INTERRUPTED = 'error: the platform stopped while this release was being deployed; deploy it again';

/** Marks every release still deploying failed; returns how many there were. Call before serving or reconciling. */
export async function failInterruptedDeploys(db: Database): Promise<number> {
  const interrupted = await db.selectFrom('releases').select(['uuid', 'app_uuid', 'version']).where('deploying', '=', 1).execute();
  for (const release of interrupted) {
    await db.updateTable('releases').set({ failed: 1, deploying: 0, exception: INTERRUPTED, updated: storeTime() }).where('uuid', '=', release.uuid).execute();
    await recordEvent(db, release.app_uuid, `v${release.version} failed: the platform stopped during its deploy`);
  }
  return interrupted.length;
}
