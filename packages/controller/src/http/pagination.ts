/**
 * Django REST framework's LimitOffsetPagination, as Deis clients read it: `{count, next, previous, results}` with
 * absolute `next`/`previous` URLs; `limit` defaults to 100, and 0 or an invalid limit means the default.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { FastifyRequest } from 'fastify';
import type { Page } from '@deis/sdk/types';

export const PAGE_SIZE = 100;

export interface PageWindow {
  limit: number;
  offset: number;
}

function nonNegativeInteger(raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) return null;
  // Beyond this no list is that long, and PostgreSQL refuses a LIMIT or OFFSET past its bigint (a 500).
  return Math.min(Number(raw), Number.MAX_SAFE_INTEGER);
}

export function pageWindow(request: FastifyRequest): PageWindow {
  const query = request.query as Record<string, unknown>;
  const limit = nonNegativeInteger(query.limit);
  const offset = nonNegativeInteger(query.offset);
  return { limit: limit === null || limit === 0 ? PAGE_SIZE : limit, offset: offset ?? 0 };
}

function pageUrl(request: FastifyRequest, window: PageWindow): string {
  let url: URL;
  try {
    url = new URL(request.url, `${request.protocol}://${request.host}`);
  } catch {
    // A Host header no URL can carry (a port out of range, an unclosed bracket) is the client's error, as in Django.
    throw new ValidationError(`Invalid HTTP_HOST header: '${request.host}'.`);
  }
  url.searchParams.set('limit', String(window.limit));
  if (window.offset > 0) url.searchParams.set('offset', String(window.offset));
  else url.searchParams.delete('offset');
  return url.toString();
}

/** Builds the page from the total count and the rows of the window (already limited and offset by the query). */
export function toPage<T>(request: FastifyRequest, window: PageWindow, count: number, results: T[]): Page<T> {
  const { limit, offset } = window;
  return {
    count,
    next: offset + limit < count ? pageUrl(request, { limit, offset: offset + limit }) : null,
    previous: offset > 0 ? pageUrl(request, { limit, offset: Math.max(0, offset - limit) }) : null,
    results,
  };
}

/** Pages a list already in memory (small lists: perms, admin lists). */
export function paginate<T>(request: FastifyRequest, all: T[]): Page<T> {
  const window = pageWindow(request);
  return toPage(request, window, all.length, all.slice(window.offset, window.offset + window.limit));
}
