/**
 * What a Dockerfile build may read from (`FROM`, `COPY --from`): what `deis pull` could deploy to the app
 * (pullable-image.ts), and of the builder's own images (`<app>:git-<sha>`) only those recorded as built for an app the
 * pusher may use now. The builder's images of a destroyed app can outlive it (a container may still hold one) and its
 * name can be taken again, so an image is matched against the build rows of the living app, not against its name.
 * @module
 */
import { PermissionDeniedError } from '@deis/core/errors';
import { findAppById } from '../apps/app-store.ts';
import type { Database } from '../db/schema.ts';
import { mayUseApp } from '../http/app-access.ts';
import type { UserRow } from '../users/user-store.ts';
import { checkPullableImage, familiarRepository, parseImageReference } from './pullable-image.ts';

const BUILDER_TAG = /^git-[0-9a-f]+$/;

/** Forms an engine may file under the same local name: Docker Hub's (pullable-image.ts) and `localhost[:port]/`. */
function localRepository(repository: string): string {
  return familiarRepository(repository.replace(/^localhost(?::\d+)?\//, ''));
}

/** Throws unless a build of the app `appId` by `user` may read `reference`. */
export async function checkBuildImage(db: Database, reference: string, appId: string, user: UserRow, registry?: string | null): Promise<void> {
  await checkPullableImage(db, reference, appId, user, registry);
  const { repository: named, tag, digest } = parseImageReference(reference);
  const repository = localRepository(named);
  const refused = (): PermissionDeniedError =>
    new PermissionDeniedError(`${reference} is not an image built for an app you may use; a build may start from the platform's images and public ones.`);
  if (tag !== null && BUILDER_TAG.test(tag)) {
    const owner = await findAppById(db, repository);
    if (!owner || !(await mayUseApp(db, owner, user))) throw refused();
    const built = await db
      .selectFrom('builds')
      .select('uuid')
      .where('app_uuid', '=', owner.uuid)
      .where('image', '=', `${repository}:${tag}`)
      .executeTakeFirst();
    if (!built) throw refused();
    return;
  }
  // The builder tags nothing else, but a digest names whatever image carries it, whatever its tag.
  if (digest !== null) {
    const owner = await findAppById(db, repository);
    if (owner && !(await mayUseApp(db, owner, user))) throw refused();
  }
}
