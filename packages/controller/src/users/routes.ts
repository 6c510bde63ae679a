/**
 * `GET /v2/users/`: every user, for admins (`deis users:list`).
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { countUsers, listUsers, toWireUser } from './user-store.ts';

export async function userRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.get('/v2/users', { config: { auth: 'admin' } }, async (request) => {
    const window = pageWindow(request);
    const [count, rows] = await Promise.all([countUsers(deps.db), listUsers(deps.db, window)]);
    return toPage(request, window, count, rows.map(toWireUser));
  });
}
