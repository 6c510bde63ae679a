/**
 * The builder's build hook, called again on another controller after the first stopped answering (a controller
 * died, or the connection to it did; ADR 0021). The call carries the same request id, so the build the first call
 * stored is found, and the retry finishes *that* build's release rather than making another: its release made if the
 * first controller died before making it, its deploy awaited if it goes on (there, or resumed by the leader), done
 * here if nobody deploys it, and the outcome answered as the first call would have answered it.
 * @module
 */
import { DeisError, ValidationError } from '@deis/core/errors';
import type { ControllerDeps } from '../deps.ts';
import { deployHoldingLock } from '../formation/deploy.ts';
import { withAppLock } from '../formation/formation-state.ts';
import type { ReleaseOutputSink } from '../formation/release-phase.ts';
import { BuildAlreadyReleased, createRelease, IN_FORCE, markReleaseFailed } from '../releases/release-store.ts';
import type { CreatedRelease } from '../releases/release-store.ts';
import type { BuildRow } from './build-store.ts';

/** What the stored reason of a failed release says, as the deploy's error said it. */
function reasonOf(exception: string | null): string {
  return (exception ?? 'the release failed').replace(/^(error: )+/, '');
}

export async function finishRetriedBuild(
  deps: ControllerDeps,
  app: { uuid: string; id: string },
  user: { id: number; username: string },
  build: BuildRow,
  onReleaseOutput?: ReleaseOutputSink,
): Promise<CreatedRelease> {
  const { db } = deps;
  const failureSummary = `${user.username} deployed ${build.uuid.slice(0, 7)} which failed`;
  try {
    // The first controller stored the build and died before its release: this one makes it, once.
    return await createRelease(deps, { app, user, config: IN_FORCE, build, failureSummary, onceForBuild: true, ...(onReleaseOutput ? { onReleaseOutput } : {}) });
  } catch (error) {
    if (!(error instanceof BuildAlreadyReleased)) throw error;
  }
  const releaseOf = () => db.selectFrom('releases').selectAll().where('app_uuid', '=', app.uuid).where('build_uuid', '=', build.uuid).orderBy('version').executeTakeFirstOrThrow();
  let notReadyNotice: string | null = null;
  // Taken once whoever deploys it now (the first controller, or the leader resuming it) is done; if nobody did, here.
  await withAppLock(deps, app.id, async (lock) => {
    const release = await releaseOf();
    if (!release.deploying) return;
    try {
      ({ notReadyNotice } = await deployHoldingLock(deps, { appUuid: app.uuid, version: release.version, username: user.username, ...(onReleaseOutput ? { onReleaseOutput } : {}) }, lock));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await markReleaseFailed(db, release.uuid, failureSummary, reason);
      if (error instanceof DeisError) throw error;
      throw new ValidationError(reason, { cause: error });
    } finally {
      await db.updateTable('releases').set({ deploying: 0 }).where('uuid', '=', release.uuid).execute();
    }
  });
  const release = await releaseOf();
  if (release.failed) throw new ValidationError(reasonOf(release.exception));
  return { release, config: null, notReadyNotice };
}
