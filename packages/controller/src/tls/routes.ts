/**
 * `/v2/apps/{app}/tls/`: whether plain-http requests to the app are redirected to https (contract §1.2).
 * @module
 */
import { ConflictError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { booleanField } from '../settings/settings-change.ts';
import { currentTls, httpsEnforced, insertTls, toWireTls } from './tls-store.ts';

type AppParams = { app: string };

export async function tlsRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<{ Params: AppParams }>('/v2/apps/:app/tls', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.app);
    return toWireTls(await currentTls(db, row), row.id);
  });

  app.post<{ Params: AppParams }>('/v2/apps/:app/tls', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.app);
    const enforced = booleanField(bodyOf(request.body), 'https_enforced');
    if (enforced === undefined) throw ValidationError.field('https_enforced', 'This field is required.');
    const previous = await currentTls(db, row);
    if (httpsEnforced(previous) === enforced) throw new ConflictError(`${user.username} changed nothing`);
    const saved = await insertTls(db, row.uuid, user.id, enforced, previous);
    deps.routing.changed();
    return reply.code(201).send(toWireTls(saved, row.id));
  });
}
