/**
 * Loads the app a request names and checks that the caller may act on it, in the order Deis does: an unknown app is
 * 404 before any permission check; then an admin or the owner may do anything, a collaborator anything but DELETE,
 * and anyone else gets 403.
 * @module
 */
import { NotFoundError, PermissionDeniedError } from '@deis/core/errors';
import type { FastifyRequest } from 'fastify';
import { findAppById, isCollaborator } from '../apps/app-store.ts';
import type { AppRow } from '../apps/app-store.ts';
import type { Database } from '../db/schema.ts';
import type { UserRow } from '../users/user-store.ts';
import { currentUser } from './auth.ts';

export type AccessLevel = 'use' | 'owner';

export interface AppAccess {
  app: AppRow & { owner_username: string };
  user: UserRow;
}

/** Whether `user` may use the app at all (admin, owner or collaborator). */
export async function mayUseApp(db: Database, app: AppRow, user: UserRow): Promise<boolean> {
  return Boolean(user.is_superuser) || app.owner_id === user.id || (await isCollaborator(db, app.uuid, user.id));
}

/**
 * @param level `use` (the default) lets collaborators through except for DELETE; `owner` admits only the owner and admins.
 */
export async function loadApp(db: Database, request: FastifyRequest, appId: string, level: AccessLevel = 'use'): Promise<AppAccess> {
  const user = currentUser(request);
  const app = await findAppById(db, appId);
  if (!app) throw NotFoundError.of('App');
  if (user.is_superuser || app.owner_id === user.id) return { app, user };
  if (level === 'use' && request.method !== 'DELETE' && (await isCollaborator(db, app.uuid, user.id))) return { app, user };
  throw new PermissionDeniedError();
}
