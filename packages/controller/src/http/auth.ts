/**
 * Who is calling. Every route is authenticated by default: a user token (`Authorization: token <key>`), the builder's
 * shared key (`X-Deis-Builder-Auth`), or nothing for the few routes that say so in their config.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { AuthenticationError, PermissionDeniedError } from '@deis/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../db/schema.ts';
import { findUserByTokenHash, hashToken } from '../users/user-store.ts';
import type { UserRow } from '../users/user-store.ts';

/** What a route requires of its caller, set as `config: { auth }` on the route. */
export type RouteAuth = 'user' | 'admin' | 'builder' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The authenticated user; set for `user`, `admin` and (when a valid token came) `optional` routes. */
    user: UserRow | null;
  }
}

const TOKEN_HEADER = /^token\s+(\S+)\s*$/i;

/** The stored hash of the token the request came with, or null when it came with none. */
export function requestTokenHash(request: FastifyRequest): string | null {
  const match = TOKEN_HEADER.exec(request.headers.authorization ?? '');
  return match?.[1] ? hashToken(match[1]) : null;
}

/** The caller's user if a valid token came; throws on a malformed or unknown token, returns null on none. */
async function userFromToken(db: Database, request: FastifyRequest): Promise<UserRow | null> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return null;
  const match = TOKEN_HEADER.exec(header);
  if (!match?.[1]) throw new AuthenticationError('Invalid token header. No credentials provided.');
  // Only hashes are stored and looked up, so the lookup's timing says nothing about any stored token.
  const user = await findUserByTokenHash(db, hashToken(match[1]));
  if (!user) throw new AuthenticationError('Invalid token.');
  return user;
}

function equalSecrets(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function installAuthentication(app: FastifyInstance, db: Database, builderKey: string): void {
  app.decorateRequest('user', null);
  app.addHook('preHandler', async (request) => {
    const auth: RouteAuth = request.routeOptions.config.auth ?? 'user';
    switch (auth) {
      case 'none':
        return;
      case 'builder': {
        const given = request.headers['x-deis-builder-auth'];
        if (typeof given !== 'string' || given === '') {
          // The contract: 401 with no credentials at all, 403 when a user's token came instead of the builder key.
          if (await userFromToken(db, request)) throw new PermissionDeniedError();
          throw new AuthenticationError();
        }
        if (!equalSecrets(given, builderKey)) throw new PermissionDeniedError();
        return;
      }
      case 'optional':
        request.user = await userFromToken(db, request);
        return;
      case 'user':
      case 'admin': {
        const user = await userFromToken(db, request);
        if (!user) throw new AuthenticationError();
        if (auth === 'admin' && !user.is_superuser) throw new PermissionDeniedError();
        request.user = user;
        return;
      }
    }
  });
}

/** The authenticated user of a route whose auth is `user` or `admin`. */
export function currentUser(request: FastifyRequest): UserRow {
  if (!request.user) throw new AuthenticationError();
  return request.user;
}
