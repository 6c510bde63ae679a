/**
 * Sharing: `/v2/apps/{app}/perms/` (collaborators of an app) and `/v2/admin/perms/` (administrators), as
 * deis/controller's AppPermsViewSet and AdminPermsViewSet (contract §1.2, `deis perms:*`).
 * @module
 */
import { ConflictError, NotFoundError, PermissionDeniedError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import { findAppById, isCollaborator } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { loadApp } from '../http/app-access.ts';
import { currentUser } from '../http/auth.ts';
import { bodyOf, requiredString } from '../http/body.ts';
import { paginate } from '../http/pagination.ts';
import { findUserByUsername, isLastAdmin, listActiveAdmins, setSuperuser } from '../users/user-store.ts';
import type { UserRow } from '../users/user-store.ts';
import { grantUse, listCollaborators, revokeUse } from './perm-store.ts';

type AppParams = { Params: { app: string } };
type AppUserParams = { Params: { app: string; username: string } };

async function userNamed(deps: ControllerDeps, username: string): Promise<UserRow> {
  const user = await findUserByUsername(deps.db, username);
  if (!user) throw NotFoundError.of('User');
  return user;
}

export async function permRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<AppParams>('/v2/apps/:app/perms', async (request) => {
    const { app: target } = await loadApp(db, request, request.params.app);
    return { users: await listCollaborators(db, target.uuid) };
  });

  app.post<AppParams>('/v2/apps/:app/perms', async (request, reply) => {
    const { app: target, user } = await loadApp(db, request, request.params.app);
    // Collaborators may use the app but not share it.
    if (!user.is_superuser && target.owner_id !== user.id) throw new PermissionDeniedError();
    const grantee = await userNamed(deps, requiredString(bodyOf(request.body), 'username'));
    await grantUse(db, target.uuid, grantee.id);
    await recordEvent(db, target.uuid, `User ${grantee.username} was granted access to ${target.id}`);
    return reply.code(201).send();
  });

  // Not loadApp: a collaborator may remove themself, which is a DELETE that loadApp would refuse them.
  app.delete<AppUserParams>('/v2/apps/:app/perms/:username', async (request, reply) => {
    const caller = currentUser(request);
    const target = await findAppById(db, request.params.app);
    if (!target) throw NotFoundError.of('App');
    const collaborator = await userNamed(deps, request.params.username);
    if (!(await isCollaborator(db, target.uuid, collaborator.id))) throw new PermissionDeniedError();
    const mayManage = Boolean(caller.is_superuser) || target.owner_id === caller.id;
    if (collaborator.id !== caller.id && !mayManage) throw new PermissionDeniedError();
    await revokeUse(db, target.uuid, collaborator.id);
    await recordEvent(db, target.uuid, `User ${collaborator.username} was revoked access to ${target.id}`);
    return reply.code(204).send();
  });

  app.get('/v2/admin/perms', { config: { auth: 'admin' } }, async (request) => {
    const admins = await listActiveAdmins(db);
    return paginate(
      request,
      admins.map((admin) => ({ username: admin.username, is_superuser: true })),
    );
  });

  app.post('/v2/admin/perms', { config: { auth: 'admin' } }, async (request, reply) => {
    const user = await userNamed(deps, requiredString(bodyOf(request.body), 'username'));
    await setSuperuser(db, user.id, true);
    return reply.code(201).send();
  });

  app.delete<{ Params: { username: string } }>('/v2/admin/perms/:username', { config: { auth: 'admin' } }, async (request, reply) => {
    const user = await userNamed(deps, request.params.username);
    if (await isLastAdmin(db, user)) throw new ConflictError(`${user.username} is the only administrator. Make another user an administrator first`);
    await setSuperuser(db, user.id, false);
    return reply.code(204).send();
  });
}
