/**
 * `/v2/apps/{app}/builds/`: list builds, and create one from an image (`deis pull`), which releases and deploys it.
 * @module
 */
import { NotFoundError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { sendDeployNotice } from '../http/deploy-notice.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { latestGoodRelease } from '../releases/release-store.ts';
import { findBuild, listBuilds, toWireBuild } from './build-store.ts';
import { createBuild, parseNewBuild } from './create-build.ts';
import { checkPullableImage } from './pullable-image.ts';

type AppParams = { Params: { id: string } };

export async function buildRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<AppParams>('/v2/apps/:id/builds/', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    const window = pageWindow(request);
    const { count, rows } = await listBuilds(db, row.uuid, window);
    return toPage(request, window, count, rows.map((build) => toWireBuild(build, build.owner_username, row.id)));
  });

  app.post<AppParams>('/v2/apps/:id/builds/', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.id);
    const newBuild = parseNewBuild(bodyOf(request.body));
    await checkPullableImage(db, newBuild.image, row.id, user, deps.settings.registry);
    const { build, notReadyNotice } = await createBuild(deps, row, user, newBuild);
    sendDeployNotice(reply, notReadyNotice);
    return reply.code(201).send(toWireBuild(build, user.username, row.id));
  });

  // Deis's quirk, kept: whatever uuid is asked for, the answer is the build of the serving release.
  app.get<{ Params: { id: string; uuid: string } }>('/v2/apps/:id/builds/:uuid/', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    const release = await latestGoodRelease(db, row.uuid);
    const build = release?.build_uuid ? await findBuild(db, release.build_uuid) : undefined;
    if (!build) throw NotFoundError.of('Build');
    const owner = await db.selectFrom('users').select('username').where('id', '=', build.owner_id).executeTakeFirstOrThrow();
    return toWireBuild(build, owner.username, row.id);
  });
}
