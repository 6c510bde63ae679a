/**
 * The router's side of the controller: a long poll for the routing table and the report of what the router applied.
 * Platform-internal (builder key), not part of Deis v2.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { buildRoutingTable } from './routing-table.ts';

/** How long a poll waits for a change before it answers 204; below common proxy and client idle timeouts. */
export const ROUTES_POLL_MAX_SECONDS = 25;

/**
 * Names this controller's run. Generations restart at 1 when the controller restarts, so a router that still holds a
 * higher generation from the previous run would otherwise wait for a change that never comes.
 */
export const ROUTING_INSTANCE_HEADER = 'x-deis-routing-instance';

function wholeNumber(field: string, raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 0) throw ValidationError.field(field, 'A valid integer is required.');
  return value;
}

export async function routingRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const instance = randomBytes(8).toString('hex');
  // Polls in flight are answered when the server closes, so closing never waits out a poll.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  const listeningPort = (): number | undefined => {
    const address = app.server.address() as AddressInfo | string | null;
    return address && typeof address === 'object' ? address.port : undefined;
  };

  app.get<{ Querystring: { after?: string; wait?: string; instance?: string } }>(
    '/v2/hooks/routes',
    { config: { auth: 'builder' } },
    async (request, reply) => {
      const after = wholeNumber('after', request.query.after, 0);
      const waitSeconds = Math.min(wholeNumber('wait', request.query.wait, ROUTES_POLL_MAX_SECONDS), ROUTES_POLL_MAX_SECONDS);
      const sameRun = request.query.instance === undefined || request.query.instance === instance;
      reply.header(ROUTING_INSTANCE_HEADER, instance);
      deps.routing.markPolled();

      if (sameRun && deps.routing.generation <= after && waitSeconds > 0) {
        const gone = new AbortController();
        const onGone = () => gone.abort();
        reply.raw.once('close', onGone);
        try {
          await deps.routing.waitChange(after, waitSeconds * 1000, AbortSignal.any([gone.signal, closing.signal]));
        } finally {
          reply.raw.off('close', onGone);
        }
      }
      if (sameRun && deps.routing.generation <= after) return reply.code(204).send();
      return buildRoutingTable(deps, { controllerPort: listeningPort() });
    },
  );

  app.post<{ Body: { generation?: unknown } }>('/v2/hooks/routes/applied', { config: { auth: 'builder' } }, async (request, reply) => {
    const body = (request.body ?? {}) as { generation?: unknown };
    if (body.generation === undefined) throw ValidationError.field('generation', 'This field is required.');
    deps.routing.markApplied(wholeNumber('generation', body.generation, 0));
    return reply.code(204).send();
  });
}
