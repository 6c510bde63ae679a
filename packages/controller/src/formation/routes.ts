/**
 * The formation's routes: scale, pods (list and restart), one-off run, and the app's logs.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { appLogLines, logLineCount } from '../logs/app-logs.ts';
import { lineMatches, logFilterOf, streamAppLog } from '../logs/log-stream.ts';
import type { OpenStreams } from '../logs/log-stream.ts';
import { runOneOff } from './one-off-run.ts';
import { listPods, restartPods } from './pods.ts';
import type { PodFilter } from './pods.ts';
import { RunQuotaError } from './quotas.ts';
import { scaleApp, UnknownProcessTypeError } from './scale.ts';

interface AppParams {
  Params: { id: string };
}
interface PodParams {
  Params: { id: string; type?: string; name?: string };
}

export async function formationRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.post<AppParams>('/v2/apps/:id/scale', async (request, reply) => {
    const { app: row, user } = await loadApp(deps.db, request, request.params.id);
    try {
      await scaleApp(deps, row.uuid, row.id, user.username, bodyOf(request.body));
    } catch (error) {
      // DRF's NotFound carries a `{"detail"}` body, unlike the Http404 string every other 404 of the API has.
      if (error instanceof UnknownProcessTypeError) return reply.code(404).send({ detail: error.message });
      throw error;
    }
    return reply.code(204).send();
  });

  const list = async (request: { params: PodParams['Params'] } & Parameters<typeof loadApp>[1]) => {
    const { app: row } = await loadApp(deps.db, request, request.params.id);
    const filter: PodFilter = {};
    if (request.params.type !== undefined) filter.type = request.params.type;
    if (request.params.name !== undefined) filter.name = request.params.name;
    const results = await listPods(deps, row.id, filter);
    // Deis fakes the pagination of pods: a count and the results, no next/previous.
    return { count: results.length, results };
  };
  app.get<PodParams>('/v2/apps/:id/pods', list);
  app.get<PodParams>('/v2/apps/:id/pods/:type', list);
  app.get<PodParams>('/v2/apps/:id/pods/:type/:name', list);

  const restart = async (request: { params: PodParams['Params'] } & Parameters<typeof loadApp>[1]) => {
    const { app: row } = await loadApp(deps.db, request, request.params.id);
    const filter: PodFilter = {};
    if (request.params.type !== undefined) filter.type = request.params.type;
    if (request.params.name !== undefined) filter.name = request.params.name;
    return restartPods(deps, row, filter);
  };
  app.post<PodParams>('/v2/apps/:id/pods/restart', restart);
  app.post<PodParams>('/v2/apps/:id/pods/:type/restart', restart);
  app.post<PodParams>('/v2/apps/:id/pods/:type/:name/restart', restart);

  app.post<AppParams>('/v2/apps/:id/run', async (request, reply) => {
    const { app: row, user } = await loadApp(deps.db, request, request.params.id);
    try {
      return await runOneOff(deps, row, user.username, bodyOf(request.body).command);
    } catch (error) {
      // Too many at once is the client's to retry later, as a throttled login is.
      if (error instanceof RunQuotaError) return reply.code(429).send({ detail: error.message });
      throw error;
    }
  });

  const openStreams: OpenStreams = new Set();
  // Before the server closes, which would wait for these clients.
  app.addHook('preClose', async () => {
    for (const close of [...openStreams]) close();
  });
  app.get<AppParams & { Querystring: { log_lines?: string; follow?: string; type?: string; release?: string } }>('/v2/apps/:id/logs', async (request, reply) => {
    const { app: row } = await loadApp(deps.db, request, request.params.id);
    const filter = logFilterOf(request.query);
    if (request.query.follow === 'true') return streamAppLog(deps, row, logLineCount(request.query.log_lines), filter, request, reply, openStreams);
    let lines: string[];
    try {
      lines = (await appLogLines(deps, row, logLineCount(request.query.log_lines))).filter((line) => lineMatches(row.id, line, filter));
    } catch (error) {
      request.log.error({ err: error }, 'reading logs failed');
      return reply.code(500).type('text/plain').send(`Error accessing logs for ${row.id}`);
    }
    if (lines.length === 0) return reply.code(204).send();
    return reply.type('text/plain').send(`${lines.join('\n')}\n`);
  });
}
