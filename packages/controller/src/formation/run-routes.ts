/**
 * The routes of interactive and detached one-off runs (docs/runs.md), extensions beside the contract's
 * `POST /v2/apps/{app}/run`: `GET /v2/apps/{app}/run/attach` (a WebSocket) and `POST /v2/apps/{app}/run/detached`.
 * Both are authorised as `POST /run` is: any user of the app. Also: the one-off containers a previous controller left
 * behind are removed at start, and open sessions end with the controller.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import type { AppAccess } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { LABEL, RUN_TYPE } from './container-spec.ts';
import { startDetachedRun } from './detached-run.ts';
import { openInteractiveRuns, serveInteractiveRun, stopInteractiveRuns } from './interactive-run.ts';
import { RunQuotaError } from './quotas.ts';

interface AppParams {
  Params: { id: string };
}

/**
 * Removes one-off containers no run of this controller holds: every run lives inside a request or a session of the
 * process that started it, so at start any found belong to a controller that stopped (or crashed) mid-run.
 */
export async function removeOrphanRuns(deps: ControllerDeps): Promise<string[]> {
  if (openInteractiveRuns(deps) > 0) return [];
  const found = await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName, [LABEL.type]: RUN_TYPE });
  for (const container of found) await deps.scheduler.stop(container.name, 0);
  return found.map((container) => container.name);
}

export async function runRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  // The app and the caller's part in it are checked before the upgrade, so a refusal is an HTTP answer.
  const access = new WeakMap<FastifyRequest, AppAccess>();
  app.route<AppParams>({
    method: 'GET',
    url: '/v2/apps/:id/run/attach',
    preHandler: async (request) => {
      access.set(request, await loadApp(deps.db, request, request.params.id));
    },
    handler: async (_request, reply) => reply.code(426).header('Upgrade', 'websocket').send({ detail: 'This endpoint speaks WebSocket only: send an Upgrade request.' }),
    wsHandler: (socket, request) => {
      const allowed = access.get(request);
      if (!allowed) return void socket.close(1011, 'no app');
      serveInteractiveRun(deps, allowed.app, allowed.user.username, socket);
    },
  });

  app.post<AppParams>('/v2/apps/:id/run/detached', async (request, reply) => {
    const { app: row, user } = await loadApp(deps.db, request, request.params.id);
    try {
      return reply.code(202).send(await startDetachedRun(deps, row, user.username, bodyOf(request.body).command));
    } catch (error) {
      if (error instanceof RunQuotaError) return reply.code(429).send({ detail: error.message });
      throw error;
    }
  });

  app.addHook('onReady', async () => {
    // Not awaited: an engine that is slow to answer must not hold the controller's start.
    void removeOrphanRuns(deps).then(
      (removed) => {
        if (removed.length > 0) app.log.info(`removed one-off containers left by a previous run: ${removed.join(', ')}`);
      },
      (error: unknown) => app.log.warn({ err: error }, 'removing one-off containers left behind failed'),
    );
  });
  app.addHook('preClose', async () => stopInteractiveRuns(deps));
}
