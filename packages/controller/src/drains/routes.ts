/**
 * `/v2/apps/{app}/drains/`, our extension (ADR 0012): list, add and remove an app's log drains. Same access as the
 * app's other routes; a drain's URL is only ever answered masked (drain-url.ts), as it often holds a secret.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import { storeTime, wireTime } from '../clock.ts';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { DrainManager } from './drain-manager.ts';
import { maskDrainUrl, parseDrainUrl } from './drain-url.ts';

/** More would let one app multiply the platform's outbound work. */
export const MAX_DRAINS_PER_APP = 5;

type AppParams = { Params: { app: string } };
type DrainParams = { Params: { app: string; drain: string } };

interface DrainWire {
  uuid: string;
  app: string;
  url: string;
  created: string;
}

function toWire(row: { uuid: string; url: string; created: string }, appId: string): DrainWire {
  return { uuid: row.uuid, app: appId, url: maskDrainUrl(row.url), created: wireTime(row.created) };
}

export async function drainRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const drains = new DrainManager(deps, (message) => app.log.warn(message));
  app.addHook('onReady', async () => drains.start());
  app.addHook('preClose', async () => drains.stop());

  app.get<AppParams>('/v2/apps/:app/drains/', async (request) => {
    const { app: row } = await loadApp(deps.db, request, request.params.app);
    const rows = await deps.db.selectFrom('log_drains').selectAll().where('app_uuid', '=', row.uuid).orderBy('created').orderBy('uuid').execute();
    return { count: rows.length, next: null, previous: null, results: rows.map((drain) => toWire(drain, row.id)) };
  });

  app.post<AppParams>('/v2/apps/:app/drains/', async (request, reply) => {
    const { app: row } = await loadApp(deps.db, request, request.params.app);
    const target = parseDrainUrl(bodyOf(request.body).url);
    const url = target.url.toString();
    const existing = await deps.db.selectFrom('log_drains').select(['url']).where('app_uuid', '=', row.uuid).execute();
    if (existing.some((drain) => drain.url === url)) throw new ConflictError(`${maskDrainUrl(url)} is already a drain of ${row.id}`);
    if (existing.length >= MAX_DRAINS_PER_APP) throw new ValidationError(`An app may have at most ${MAX_DRAINS_PER_APP} log drains`);
    const drain = { uuid: randomUUID(), app_uuid: row.uuid, url, created: storeTime() };
    await deps.db.insertInto('log_drains').values(drain).execute();
    drains.attach({ uuid: drain.uuid, appUuid: row.uuid, appId: row.id, url });
    return reply.code(201).send(toWire(drain, row.id));
  });

  /** By uuid; the CLI removes by URL through the body form below, as the list shows URLs only masked. */
  app.delete<DrainParams>('/v2/apps/:app/drains/:drain', async (request, reply) => {
    const { app: row } = await loadApp(deps.db, request, request.params.app);
    const deleted = await deps.db.deleteFrom('log_drains').where('app_uuid', '=', row.uuid).where('uuid', '=', request.params.drain).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw NotFoundError.of('Drain');
    drains.detach(request.params.drain);
    return reply.code(204).send();
  });

  app.delete<AppParams>('/v2/apps/:app/drains/', async (request, reply) => {
    const { app: row } = await loadApp(deps.db, request, request.params.app);
    const raw = bodyOf(request.body).url;
    if (typeof raw !== 'string' || raw === '') throw ValidationError.field('url', 'This field is required.');
    let url = raw;
    try {
      url = new URL(raw).toString();
    } catch {
      // Not a URL: it matches no drain, and the answer says so.
    }
    const drain = await deps.db.selectFrom('log_drains').select(['uuid']).where('app_uuid', '=', row.uuid).where('url', '=', url).executeTakeFirst();
    if (!drain) throw NotFoundError.of('Drain');
    await deps.db.deleteFrom('log_drains').where('uuid', '=', drain.uuid).execute();
    drains.detach(drain.uuid);
    return reply.code(204).send();
  });
}
