/**
 * `POST /v2/hooks/image/`: before a Dockerfile build, the builder asks whether the pusher's app may read each image
 * the Dockerfile names (buildable-image.ts). 200 `{}` when it may; 400 or 403 with the reason when not.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { checkBuildImage } from '../builds/buildable-image.ts';
import type { ControllerDeps } from '../deps.ts';
import { bodyOf, requiredString } from '../http/body.ts';
import { hookCaller } from './hook-caller.ts';

export async function imageHookRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.post('/v2/hooks/image/', { config: { auth: 'builder' } }, async (request) => {
    const body = bodyOf(request.body);
    const { app: target, user } = await hookCaller(deps.db, body);
    await checkBuildImage(deps.db, requiredString(body, 'image'), target.id, user, deps.settings.registry);
    return {};
  });
}
