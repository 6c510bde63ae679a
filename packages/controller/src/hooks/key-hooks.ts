/**
 * The builder's key hooks (builder key auth): who a pushing SSH key belongs to, and which keys may push to an app
 * (contract §1.2, deis/controller's KeyHookViewSet).
 * @module
 */
import { NotFoundError, PermissionDeniedError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { KeyHookResponse } from '@deis/sdk/types';
import { findAppById } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { mayUseApp } from '../http/app-access.ts';
import { findKeyByFingerprint, keysOfUsers } from '../keys/key-store.ts';
import type { KeyRowWithOwner } from '../keys/key-store.ts';
import { appIdsUsableBy, userIdsWhoMayUse } from '../perms/perm-store.ts';
import { findUserByUsername } from '../users/user-store.ts';

/** `{username: [{key, fingerprint}, …]}`, users in the order of their oldest key. */
export type KeysByUser = Record<string, { key: string; fingerprint: string }[]>;

/** Through a Map, so that a username such as `__proto__` is just a key. */
function groupByOwner(keys: KeyRowWithOwner[]): KeysByUser {
  const grouped = new Map<string, { key: string; fingerprint: string }[]>();
  for (const key of keys) {
    const list = grouped.get(key.owner_username) ?? [];
    list.push({ key: key.public, fingerprint: key.fingerprint });
    grouped.set(key.owner_username, list);
  }
  return Object.fromEntries(grouped);
}

export async function keyHookRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;
  const builder = { config: { auth: 'builder' as const } };

  // Deis listed every app here and left the check to the config and build hooks; listing only the apps the key's
  // owner may use lets the builder refuse a push before it starts.
  app.get<{ Params: { fingerprint: string } }>('/v2/hooks/key/:fingerprint', builder, async (request): Promise<KeyHookResponse> => {
    const key = await findKeyByFingerprint(db, request.params.fingerprint.trim().toLowerCase());
    if (!key) throw NotFoundError.of('Key');
    const owner = await findUserByUsername(db, key.owner_username);
    if (!owner) throw NotFoundError.of('Key');
    return { username: owner.username, apps: await appIdsUsableBy(db, owner) };
  });

  app.get<{ Params: { app: string } }>('/v2/hooks/keys/:app', builder, async (request): Promise<KeysByUser> => {
    const target = await findAppById(db, request.params.app);
    if (!target) throw NotFoundError.of('App');
    return groupByOwner(await keysOfUsers(db, await userIdsWhoMayUse(db, target)));
  });

  app.get<{ Params: { app: string; username: string } }>('/v2/hooks/keys/:app/:username', builder, async (request): Promise<KeysByUser> => {
    const target = await findAppById(db, request.params.app);
    if (!target) throw NotFoundError.of('App');
    const user = await findUserByUsername(db, request.params.username);
    if (!user) throw NotFoundError.of('User');
    if (!user.is_active || !(await mayUseApp(db, target, user))) throw new PermissionDeniedError();
    const keys = await keysOfUsers(db, [user.id]);
    if (keys.length === 0) throw new NotFoundError('No Keys match the given query.');
    return groupByOwner(keys);
  });
}
