/**
 * `POST /v2/hooks/app/`: on every push and fetch the builder asks for the uuid of the app, after the same access check
 * as the other hooks; a repository is bound to it, so a re-created app of the same name never sees the old history.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { bodyOf } from '../http/body.ts';
import { hookCaller } from './hook-caller.ts';

export async function appHookRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.post('/v2/hooks/app/', { config: { auth: 'builder' } }, async (request) => {
    const { app: target } = await hookCaller(deps.db, bodyOf(request.body));
    return { id: target.id, uuid: target.uuid };
  });
}
