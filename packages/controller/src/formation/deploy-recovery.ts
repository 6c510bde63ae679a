/**
 * A deploy a crash or a stop interrupted leaves its release looking good, half rolled out. On one host (SQLite), the
 * platform itself stopped: at start, before anything reconciles, such releases are marked failed, so the reconciler
 * brings back the release that was serving rather than adopting one nobody saw succeed (and whose pusher was never
 * told). On a store several controllers share, only the controller deploying it died while the platform runs on: the
 * new leader resumes the deploy, which completes or fails as it would have (ADR 0021).
 * @module
 */
import { storeTime } from '../clock.ts';
import { appLocksOf } from '../db/app-locks.ts';
import type { Database } from '../db/schema.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { deployHoldingLock } from './deploy.ts';
import { withAppLock } from './formation-state.ts';

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

/** What `resumeOrphanedDeploys` took over. */
export interface ResumedDeploys {
  /** The apps whose deploy resumes here. */
  apps: string[];
  /** Settles once every resumed deploy has ended, however it ended. */
  done: Promise<void>;
}

/**
 * Takes over the deploys a dead controller left half done (ADR 0021), on a store several controllers share: a release
 * still deploying whose app's lock nobody holds is deployed again here, from the start: its release phase runs again,
 * new containers start beside those serving (the dead one's half-started ones are never routed: their marks are in
 * the store), the routers switch, and every older container stops. If it fails, it is marked failed and the release
 * that served keeps serving. Older releases still marked deploying were superseded by the newest and are only
 * unmarked. Each app's lock is taken here before this resolves, so the reconciler, started after, leaves those apps
 * to their deploy.
 */
export async function resumeOrphanedDeploys(deps: ControllerDeps, onEnded: (appId: string, error: unknown) => void = () => undefined): Promise<ResumedDeploys> {
  const { db } = deps;
  const deploying = await db
    .selectFrom('releases')
    .innerJoin('apps', 'apps.uuid', 'releases.app_uuid')
    .leftJoin('users', 'users.id', 'releases.owner_id')
    .select(['releases.uuid', 'releases.app_uuid', 'releases.version', 'apps.id as app_id', 'users.username'])
    .where('releases.deploying', '=', 1)
    .orderBy('releases.version', 'desc')
    .execute();
  const locks = appLocksOf(db);
  const apps: string[] = [];
  const deploys: Promise<void>[] = [];
  for (const appId of new Set(deploying.map((release) => release.app_id))) {
    const probe = await locks.tryAcquire(`formation:${appId}`);
    // Held: its controller lives and deploys it, or it waits its turn there.
    if (!probe) continue;
    await probe();
    const [newest, ...older] = deploying.filter((r) => r.app_id === appId);
    if (!newest) continue;
    for (const superseded of older) await db.updateTable('releases').set({ deploying: 0 }).where('uuid', '=', superseded.uuid).execute();
    apps.push(appId);
    await recordEvent(db, newest.app_uuid, `v${newest.version}: the controller deploying it stopped; another one resumes the deploy`);
    const request = { appUuid: newest.app_uuid, version: newest.version, username: newest.username ?? 'deis' };
    // Queued on the app's lock at once (withAppLock registers before its first wait): the reconciler sees it busy.
    const deploy = withAppLock(deps, appId, async (lock) => {
      // The pusher's builder may have retried its hook on a controller that finished it first (retried-build.ts).
      const still = await db.selectFrom('releases').select('deploying').where('uuid', '=', newest.uuid).executeTakeFirst();
      if (still?.deploying) await deployHoldingLock(deps, request, lock);
    });
    deploys.push(
      deploy
        .then(() => onEnded(appId, null), (error: unknown) => onEnded(appId, error))
        .finally(() => db.updateTable('releases').set({ deploying: 0 }).where('uuid', '=', newest.uuid).execute().then(() => undefined, () => undefined)),
    );
  }
  return { apps, done: Promise.all(deploys).then(() => undefined) };
}
