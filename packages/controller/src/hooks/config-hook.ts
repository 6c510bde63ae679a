/**
 * `POST /v2/hooks/config/`: the builder asks for the config of the app being pushed (it reads `BUILDPACK_URL`,
 * `DEIS_DISABLE_CACHE` and passes the values to the build).
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { currentConfig } from '../config/current-config.ts';
import { toWireConfig } from '../config/config-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { bodyOf } from '../http/body.ts';
import { hookCaller } from './hook-caller.ts';

export async function configHookRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.post('/v2/hooks/config/', { config: { auth: 'builder' } }, async (request) => {
    const { app: target } = await hookCaller(deps.db, bodyOf(request.body));
    const { config } = await currentConfig(deps.db, target.uuid);
    return toWireConfig(config, config.owner_username, target.id);
  });
}
