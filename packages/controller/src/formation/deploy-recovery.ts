/**
 * A deploy a crash or a stop interrupted leaves its release looking good, half rolled out. At start, before anything
 * reconciles, such releases are marked failed, so the reconciler brings back the release that was serving rather
 * than adopting one nobody saw succeed (and whose pusher was never told).
 * @module
 */
import { storeTime } from '../clock.ts';
import { appLocksOf } from '../db/app-locks.ts';
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

/**
 * The same on a store several controllers share (ADR 0016), run by the leader when it begins to lead: a release still
 * deploying whose app's lock nobody holds had its controller die under it; one whose app's lock is held is being
 * deployed, or waits its turn, on a controller that lives. Each app's lock is held while its releases are marked.
 */
export async function failOrphanedDeploys(db: Database): Promise<number> {
  const deploying = await db
    .selectFrom('releases')
    .innerJoin('apps', 'apps.uuid', 'releases.app_uuid')
    .select(['releases.uuid', 'releases.app_uuid', 'releases.version', 'apps.id as app_id'])
    .where('releases.deploying', '=', 1)
    .execute();
  const locks = appLocksOf(db);
  let failed = 0;
  for (const appId of new Set(deploying.map((release) => release.app_id))) {
    const release = await locks.tryAcquire(`formation:${appId}`);
    if (!release) continue;
    try {
      for (const orphan of deploying.filter((r) => r.app_id === appId)) {
        const marked = await db
          .updateTable('releases')
          .set({ failed: 1, deploying: 0, exception: INTERRUPTED, updated: storeTime() })
          .where('uuid', '=', orphan.uuid)
          .where('deploying', '=', 1)
          .executeTakeFirst();
        if (Number(marked.numUpdatedRows) === 0) continue;
        await recordEvent(db, orphan.app_uuid, `v${orphan.version} failed: the controller deploying it stopped`);
        failed++;
      }
    } finally {
      await release();
    }
  }
  return failed;
}
