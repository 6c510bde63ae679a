/**
 * The images the builder made for an app (`<app>:git-<sha8>`, the builder's `imageName`). Nothing else ever removes
 * them, so destroying the app does: a long-lived host would otherwise fill its disk with images of apps long gone.
 * @module
 */
import type { Scheduler } from '@deis/scheduler/scheduler';
import { familiarRepository, parseImageReference } from '../builds/pullable-image.ts';
import type { Database } from '../db/schema.ts';

const SHA = /^[0-9a-f]+$/;

/** The short form the engine also reads a reference as: Docker Hub's host and `library/` dropped, a digest ignored. */
function familiarName(reference: string): string {
  const { repository, tag } = parseImageReference(reference);
  return tag === null ? familiarRepository(repository) : `${familiarRepository(repository)}:${tag}`;
}

/**
 * The builder's images of the app that no other app's build names; read them before the app's build rows go, as those
 * are the only record of them.
 *
 * A build is the builder's when it has a commit sha and its image is the name the builder gives that commit. `deis
 * pull` sends no sha, so a pulled image is never taken for one, whatever its name. On one host the builder pushes to
 * no registry (ADR 0007); when it pushes to the platform's (`registry`, ADR 0019) its names carry that host.
 */
export async function builderImagesOf(db: Database, app: { uuid: string; id: string }, registry?: string | null): Promise<string[]> {
  const builds = await db.selectFrom('builds').select(['image', 'sha']).where('app_uuid', '=', app.uuid).execute();
  const builderName = (sha: string): string[] => {
    const name = `${app.id}:git-${sha.slice(0, 8)}`;
    return registry ? [name, `${registry}/${name}`] : [name];
  };
  const images = new Set(builds.filter((b) => SHA.test(b.sha) && builderName(b.sha).includes(b.image)).map((b) => b.image));
  if (images.size === 0) return [];
  // Someone who may use both apps can have `deis pull`ed one of them into another app (pullable-image.ts), maybe
  // under a longer form of its name; that app still deploys it. App ids hold no LIKE wildcards (app-names.ts).
  const others = await db
    .selectFrom('builds')
    .select('image')
    .where('app_uuid', '!=', app.uuid)
    .where('image', 'like', `%${app.id}:git-%`)
    .execute();
  for (const { image } of others) images.delete(familiarName(image));
  return [...images].sort();
}

/**
 * Removes each image, never forced: one a container still uses stays. A failure goes to `onError` and the others are
 * still tried, since the app they belonged to is gone either way.
 */
export async function removeBuilderImages(scheduler: Scheduler, images: string[], onError: (image: string, error: unknown) => void): Promise<void> {
  for (const image of images) {
    try {
      await scheduler.removeImage(image);
    } catch (error) {
      onError(image, error);
    }
  }
}
