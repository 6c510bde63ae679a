/**
 * `/v2/apps/{app}/releases/`: list releases, show one (`v{N}`), roll back.
 * @module
 */
import { NotFoundError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { sendDeployNotice } from '../http/deploy-notice.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { findRelease, listReleases, toWireRelease } from './release-store.ts';
import { rollbackRelease } from './rollback.ts';

type AppParams = { Params: { id: string } };

export async function releaseRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<AppParams>('/v2/apps/:id/releases/', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    const window = pageWindow(request);
    const { count, rows } = await listReleases(db, row.uuid, window);
    return toPage(request, window, count, rows.map((release) => toWireRelease(release, release.owner_username, row.id)));
  });

  app.get<{ Params: { id: string; version: string } }>('/v2/apps/:id/releases/v:version/', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    const version = /^[0-9]{1,9}$/.test(request.params.version) ? Number(request.params.version) : null;
    const release = version === null ? undefined : await findRelease(db, row.uuid, version);
    if (!release) throw NotFoundError.of('Release');
    return toWireRelease(release, release.owner_username, row.id);
  });

  app.post<AppParams>('/v2/apps/:id/releases/rollback/', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.id);
    const { release, notReadyNotice } = await rollbackRelease(deps, row, user, bodyOf(request.body).version);
    sendDeployNotice(reply, notReadyNotice);
    return reply.code(201).send({ version: release.version });
  });
}
