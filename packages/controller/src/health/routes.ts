import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';

/** `/healthz` says the process runs; `/readiness` also says the store answers. Both are outside `/v2/`, unauthenticated. */
export async function healthRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.route({ method: ['GET', 'HEAD'], url: '/healthz', config: { auth: 'none' }, handler: async (_request, reply) => reply.type('text/plain').send('OK') });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/readiness',
    config: { auth: 'none' },
    handler: async (_request, reply) => {
      try {
        await sql`select 1`.execute(deps.db);
        return reply.type('text/plain').send('OK');
      } catch {
        return reply.code(503).type('text/plain').send('Database unavailable');
      }
    },
  });
}
