/**
 * Who a builder hook acts for: the app (`receive_repo`) and the user who pushed (`receive_user`), who must be allowed
 * to use the app. The builder key proved the caller is the builder; this proves the pusher may push.
 * @module
 */
import { NotFoundError, PermissionDeniedError } from '@deis/core/errors';
import type { VisibleApp } from '../apps/app-store.ts';
import { findAppById } from '../apps/app-store.ts';
import type { Database } from '../db/schema.ts';
import { mayUseApp } from '../http/app-access.ts';
import { requiredString } from '../http/body.ts';
import { findUserByUsername } from '../users/user-store.ts';
import type { UserRow } from '../users/user-store.ts';

export async function hookCaller(db: Database, body: Record<string, unknown>): Promise<{ app: VisibleApp; user: UserRow }> {
  const appId = requiredString(body, 'receive_repo');
  const username = requiredString(body, 'receive_user');
  const app = await findAppById(db, appId);
  if (!app) throw NotFoundError.of('App');
  const user = await findUserByUsername(db, username);
  if (!user || !user.is_active) throw NotFoundError.of('User');
  if (!(await mayUseApp(db, app, user))) throw new PermissionDeniedError();
  return { app, user };
}
