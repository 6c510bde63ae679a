/**
 * `/v2/apps/`: create, list, info, transfer and destroy apps (contract §1.2).
 * @module
 */
import { MethodNotAllowedError, NotFoundError, PermissionDeniedError } from '@deis/core/errors';
import { ImageInUseError } from '@deis/scheduler/scheduler';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { removeAppContainers } from '../formation/deploy.ts';
import { loadApp } from '../http/app-access.ts';
import { currentUser } from '../http/auth.ts';
import { bodyOf, optionalString } from '../http/body.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { findUserByUsername } from '../users/user-store.ts';
import { deleteAppRows, listVisibleApps, toWireApp, transferApp } from './app-store.ts';
import { forgetAppInBuilder } from './builder-forget.ts';
import { builderImagesOf, removeBuilderImages } from './builder-images.ts';
import { createApp } from './create-app.ts';

type AppParams = { Params: { id: string } };

export async function appRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get('/v2/apps/', async (request) => {
    const window = pageWindow(request);
    const { count, rows } = await listVisibleApps(db, currentUser(request), window.limit, window.offset);
    return toPage(request, window, count, rows.map((row) => toWireApp(row, row.owner_username)));
  });

  app.post('/v2/apps/', async (request, reply) => {
    const user = currentUser(request);
    const created = await createApp(deps, user, optionalString(bodyOf(request.body), 'id'));
    return reply.code(201).send(toWireApp(created, created.owner_username));
  });

  app.get<AppParams>('/v2/apps/:id/', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    return toWireApp(row, row.owner_username);
  });

  // Deis's "update" is a transfer of ownership; only the owner or an admin may give an app away.
  app.post<AppParams>('/v2/apps/:id/', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.id);
    const newOwner = optionalString(bodyOf(request.body), 'owner');
    if (newOwner !== undefined) {
      if (!user.is_superuser && row.owner_id !== user.id) throw new PermissionDeniedError();
      const target = await findUserByUsername(db, newOwner);
      if (!target) throw NotFoundError.of('User');
      if (target.id !== row.owner_id) await transferApp(db, row, target.id);
    }
    return reply.code(200).send();
  });

  app.delete<AppParams>('/v2/apps/:id/', async (request, reply) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    const images = await builderImagesOf(db, row, deps.settings.registry);
    await removeAppContainers(deps, row.id);
    await deleteAppRows(db, row.uuid);
    deps.logs.forget(row.id);
    deps.routing.changed();
    // After the containers, which would hold their images; an image that cannot go does not undo the destroy.
    await removeBuilderImages(deps.scheduler, images, (image, error) => {
      if (error instanceof ImageInUseError) request.log.warn({ image }, 'an image of the destroyed app stays: a container still uses it');
      else request.log.error({ err: error, image }, 'removing an image of the destroyed app failed');
    });
    await forgetAppInBuilder(deps.settings, row, (error) => request.log.error({ err: error, app: row.id }, 'the builder could not remove the repository of the destroyed app'));
    return reply.code(204).send();
  });

  // DRF answers an unsupported method before it looks the object up.
  const notAllowed = async (request: FastifyRequest<AppParams>) => {
    throw new MethodNotAllowedError(request.method);
  };
  app.patch<AppParams>('/v2/apps/:id/', notAllowed);
  app.put<AppParams>('/v2/apps/:id/', notAllowed);
}
