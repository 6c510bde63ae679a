/**
 * How much history an app keeps, so that no tenant grows the store or the engine's disk without bound: after each
 * successful release, release rows beyond the newest `releasesKeptPerApp` go (v1, which rollbacks and `deis releases`
 * treat as the app's beginning, and the release in force always stay), with the config and build rows no remaining
 * release names; and the builder's images beyond the newest `imagesKeptPerApp` are removed from the engine (the one
 * in force always stays). A rollback to what was pruned says so (rollback.ts).
 * @module
 */
import { ImageInUseError } from '@deis/scheduler/scheduler';
import type { Scheduler } from '@deis/scheduler/scheduler';
import { builderImagesOf } from '../apps/builder-images.ts';
import type { ControllerDeps } from '../deps.ts';
import { DEFAULT_IMAGES_KEPT, DEFAULT_RELEASES_KEPT } from '../settings.ts';
import { findBuild } from '../builds/build-store.ts';
import type { BuildRow } from '../builds/build-store.ts';

const SHA = /^[0-9a-f]+$/;

/**
 * Whether the builder made this build's image (`<app>:git-<sha8>`, or under the platform's `registry` when it pushes
 * there; as builder-images.ts reads it).
 */
export function isBuilderImage(build: Pick<BuildRow, 'image' | 'sha'>, appId: string, registry?: string | null): boolean {
  if (!SHA.test(build.sha)) return false;
  const name = `${appId}:git-${build.sha.slice(0, 8)}`;
  return build.image === name || (!!registry && build.image === `${registry}/${name}`);
}

/** Images already removed, per engine, so that each deploy does not ask the engine to remove them again. */
const removed = new WeakMap<Scheduler, Set<string>>();

export interface PruneReport {
  releases: number;
  images: string[];
  /** Images that could not go, with why; an image a container still uses is not one. */
  failures: Array<{ image: string; error: unknown }>;
}

/** The release in force: the newest that did not fail (as release-store.ts reads it). */
async function servingRelease(deps: ControllerDeps, appUuid: string): Promise<{ version: number; build_uuid: string | null } | undefined> {
  return deps.db
    .selectFrom('releases')
    .select(['version', 'build_uuid'])
    .where('app_uuid', '=', appUuid)
    .where('failed', '=', 0)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function pruneAppHistory(deps: ControllerDeps, app: { uuid: string; id: string }): Promise<PruneReport> {
  const { db, settings } = deps;
  const report: PruneReport = { releases: 0, images: [], failures: [] };
  const serving = await servingRelease(deps, app.uuid);
  if (!serving) return report;

  // Images first: the build rows are the only record of them, and some of those rows go below.
  const builds = await db.selectFrom('builds').select(['image', 'sha']).where('app_uuid', '=', app.uuid).orderBy('created', 'desc').orderBy('uuid', 'desc').execute();
  const newest: string[] = [];
  for (const build of builds) if (isBuilderImage(build, app.id, settings.registry) && !newest.includes(build.image)) newest.push(build.image);
  const keptImages = new Set(newest.slice(0, settings.imagesKeptPerApp ?? DEFAULT_IMAGES_KEPT));
  const servingBuild = serving.build_uuid ? await findBuild(db, serving.build_uuid) : undefined;
  if (servingBuild) keptImages.add(servingBuild.image);
  const done = removed.get(deps.scheduler) ?? new Set<string>();
  removed.set(deps.scheduler, done);
  // A commit pushed again makes its image again under the same name.
  for (const image of keptImages) done.delete(image);
  // builderImagesOf leaves out an image another app was given by `deis pull`, which that app may still deploy.
  for (const image of await builderImagesOf(db, app, settings.registry)) {
    if (keptImages.has(image) || done.has(image)) continue;
    try {
      await deps.scheduler.removeImage(image);
      done.add(image);
      report.images.push(image);
    } catch (error) {
      if (!(error instanceof ImageInUseError)) report.failures.push({ image, error });
    }
  }

  const releases = await db.selectFrom('releases').select(['uuid', 'version']).where('app_uuid', '=', app.uuid).orderBy('version', 'desc').execute();
  const kept = new Set(releases.slice(0, settings.releasesKeptPerApp ?? DEFAULT_RELEASES_KEPT).map((r) => r.version));
  kept.add(1);
  kept.add(serving.version);
  const pruned = releases.filter((r) => !kept.has(r.version)).map((r) => r.uuid);
  if (pruned.length === 0) return report;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < pruned.length; i += 500) await trx.deleteFrom('releases').where('uuid', 'in', pruned.slice(i, i + 500)).execute();
    // Rows no remaining release names: nothing reads them (the config in force is the serving release's). A build
    // whose image is kept stays, as apps:destroy finds the app's images through the build rows.
    const named = trx.selectFrom('releases').where('app_uuid', '=', app.uuid);
    await trx.deleteFrom('configs').where('app_uuid', '=', app.uuid).where('uuid', 'not in', named.select('config_uuid')).execute();
    let unnamedBuilds = trx
      .deleteFrom('builds')
      .where('app_uuid', '=', app.uuid)
      .where('uuid', 'not in', named.select('build_uuid').where('build_uuid', 'is not', null).$narrowType<{ build_uuid: string }>());
    if (keptImages.size > 0) unnamedBuilds = unnamedBuilds.where('image', 'not in', [...keptImages]);
    await unnamedBuilds.execute();
  });
  report.releases = pruned.length;
  return report;
}
