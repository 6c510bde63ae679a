/**
 * What `deis pull` may deploy. On one host every app's builds sit on the same Docker engine (ADR 0007), and the engine
 * resolves a bare hexadecimal name as an image ID prefix. So a pulled reference must name an image, not an ID, and an
 * image the builder made for another app (`<app>:git-<sha>`) is only for someone who may use that app.
 * @module
 */
import { PermissionDeniedError, ValidationError } from '@deis/core/errors';
import { findAppById } from '../apps/app-store.ts';
import type { Database } from '../db/schema.ts';
import { mayUseApp } from '../http/app-access.ts';
import type { UserRow } from '../users/user-store.ts';

const BUILDER_TAG = /^git-[0-9a-f]+$/;
const HEX = /^[0-9a-f]+$/;

export interface ImageReference {
  /** Everything before the tag, registry included. */
  repository: string;
  tag: string | null;
  digest: string | null;
}

/**
 * The short name the engine files a Docker Hub repository under: `docker.io/library/web` and `library/web` are the
 * local image `web`. registry-1.docker.io is dropped too, which errs on the side of calling a name another app's.
 */
export function familiarRepository(repository: string): string {
  return repository.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

export function parseImageReference(reference: string): ImageReference {
  const [named = '', digest = null] = reference.split('@', 2);
  // A colon after the last slash starts the tag; one before it belongs to a registry's port.
  const lastSlash = named.lastIndexOf('/');
  const colon = named.indexOf(':', lastSlash + 1);
  return colon === -1 ? { repository: named, tag: null, digest } : { repository: named.slice(0, colon), tag: named.slice(colon + 1), digest };
}

/**
 * Throws unless `user` may deploy `reference` to the app `appId`. The platform's `registry` (ADR 0019) holds only the
 * builder's images, each under its app's name, which the nodes pull with the platform's login: any reference into it
 * is for someone who may use that app.
 */
export async function checkPullableImage(db: Database, reference: string, appId: string, user: UserRow, registry?: string | null): Promise<void> {
  if (registry && reference.toLowerCase().startsWith(`${registry.toLowerCase()}/`)) {
    const { repository } = parseImageReference(reference.slice(registry.length + 1));
    if (repository === appId) return;
    const owner = await findAppById(db, repository);
    if (!owner || !(await mayUseApp(db, owner, user))) {
      throw new PermissionDeniedError(`${reference} is in the platform's registry and was not built for an app you may use.`);
    }
    return;
  }
  const { repository: named, tag, digest } = parseImageReference(reference);
  const repository = familiarRepository(named);
  if (reference.startsWith('sha256:') || (tag === null && digest === null && HEX.test(repository))) {
    throw ValidationError.field('image', `"${reference}" reads as an image ID; name the image with its repository and a tag (for example ${repository}:latest).`);
  }
  if (tag === null || !BUILDER_TAG.test(tag) || repository === appId) return;
  const owner = await findAppById(db, repository);
  if (owner && !(await mayUseApp(db, owner, user))) {
    throw new PermissionDeniedError(`${reference} was built for the app ${repository}, which you may not use.`);
  }
}
