/**
 * `releases:rollback`: a new release that copies the build and config of an earlier one (contract §1.2).
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import { findBuild } from '../builds/build-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { DEFAULT_IMAGES_KEPT, DEFAULT_RELEASES_KEPT } from '../settings.ts';
import { createRelease, findRelease, latestGoodRelease, latestReleaseVersion } from './release-store.ts';
import { isBuilderImage } from './retention.ts';
import type { CreatedRelease } from './release-store.ts';

/** Release versions are an `integer` column. */
const MAX_STORED_VERSION = 2 ** 31 - 1;

/** The version asked for; absent (the CLI posts an empty body), the one before the serving release. */
function targetVersion(raw: unknown, serving: number): number {
  if (raw === undefined || raw === null || raw === '') return serving - 1;
  const text = String(raw).trim();
  if (!/^[-+]?[0-9]+$/.test(text)) throw new ValidationError(`invalid version: ${JSON.stringify(raw)}`);
  return Number.parseInt(text, 10);
}

export async function rollbackRelease(
  deps: ControllerDeps,
  app: { uuid: string; id: string },
  user: { id: number; username: string },
  requestedVersion: unknown,
): Promise<CreatedRelease> {
  const serving = await latestGoodRelease(deps.db, app.uuid);
  if (!serving) throw new Error(`app ${app.id} has no release`);
  const version = targetVersion(requestedVersion, serving.version);
  if (version < 1) throw new ValidationError('version cannot be below 0');
  if (version === 1) throw new ValidationError('Cannot roll back to initial release.');
  // Past PostgreSQL's integer no release can exist, and asking would be its error (a 500), not the client's.
  const target = version <= MAX_STORED_VERSION ? await findRelease(deps.db, app.uuid, version) : undefined;
  if (!target) {
    // Versions are never reused, so a missing one below the newest was pruned (retention.ts).
    if (version < (await latestReleaseVersion(deps.db, app.uuid))) {
      const kept = deps.settings.releasesKeptPerApp ?? DEFAULT_RELEASES_KEPT;
      throw new ValidationError(`Release v${version} was pruned: an app keeps its newest ${kept} releases (DEIS_RELEASES_KEPT), v1 and the one in force.`);
    }
    throw new ValidationError('Release matching query does not exist.');
  }
  if (target.failed) throw new ValidationError('Cannot roll back to failed release.');
  const build = target.build_uuid ? ((await findBuild(deps.db, target.build_uuid)) ?? null) : null;
  if (build && isBuilderImage(build, app.id, deps.settings.registry) && (await deps.scheduler.imagePorts(build.image)) === null) {
    const kept = deps.settings.imagesKeptPerApp ?? DEFAULT_IMAGES_KEPT;
    throw new ValidationError(
      `The image of v${version} (${build.image}) was pruned: an app keeps the images of its newest ${kept} builds (DEIS_IMAGES_KEPT). Push commit ${build.sha} again to build it anew.`,
    );
  }
  return createRelease(deps, {
    app,
    user,
    config: { uuid: target.config_uuid },
    build,
    summary: `${user.username} rolled back to v${version}`,
    failureSummary: `${user.username} performed roll back to a release that failed`,
  });
}
