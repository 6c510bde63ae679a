/**
 * `/v2/apps/{app}/settings/`: maintenance, routable, whitelist, autoscale and labels of an app (contract §1.2). The
 * whitelist's own endpoint lives beside it and is registered from here.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { whitelistRoutes } from '../whitelist/routes.ts';
import { saveSettings } from './save-settings.ts';
import { currentSettings, toWireSettings } from './settings-store.ts';

type AppParams = { app: string };

export async function settingsRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<{ Params: AppParams }>('/v2/apps/:app/settings', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.app);
    return toWireSettings(await currentSettings(db, row), row.id);
  });

  app.post<{ Params: AppParams }>('/v2/apps/:app/settings', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.app);
    const saved = await saveSettings(deps, row, user, bodyOf(request.body));
    return reply.code(201).send(toWireSettings(saved, row.id));
  });

  await whitelistRoutes(app, deps);
}
