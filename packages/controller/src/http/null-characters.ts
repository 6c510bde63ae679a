/**
 * NUL characters are refused at the edge. PostgreSQL's text cannot hold one, so a name or field carrying it was a
 * 500 there while SQLite stored it: now a NUL in a path's names is 404 (nothing can be named so), and one in any
 * string of a body is 400 with DRF's message for its CharFields.
 * @module
 */
import { NotFoundError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';

export const NULL_CHARACTERS = 'Null characters are not allowed.';

/** Whether a string anywhere in a parsed body (keys included) holds a NUL; iterative, as bodies may nest deeply. */
function holdsNul(body: unknown): boolean {
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return true;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes('\u0000')) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/** Installed after authentication, so that a caller without credentials still hears 401 first. */
export function installNullCharacterCheck(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    const params = (request.params ?? {}) as Record<string, unknown>;
    if (Object.values(params).some((value) => typeof value === 'string' && value.includes('\u0000'))) throw new NotFoundError('Not found.');
    if (holdsNul(request.body)) throw new ValidationError(NULL_CHARACTERS);
  });
}
