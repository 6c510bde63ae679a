/**
 * Request bodies as Deis clients send them: JSON (possibly empty: `apps:create` with no name posts 0 bytes), or
 * form-encoded as the controller's own tests do. JSON fields may arrive as objects or as JSON text.
 * @module
 */
import { parse as parseQueryString } from 'node:querystring';
import { ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ValidationError(`JSON parse error - ${(error as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    const parsed = parseQueryString(String(body));
    done(null, Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v[v.length - 1] : v])));
  });
}

/** The request body as an object; anything else (an array, a number) is a 400. */
export function bodyOf(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('Invalid data. Expected a dictionary.', { fields: { non_field_errors: ['Invalid data. Expected a dictionary, but got ' + (Array.isArray(body) ? 'list' : typeof body) + '.'] } });
  return body as Record<string, unknown>;
}

/**
 * A JSON field (config `values`, settings `label`, …) given as an object or as JSON text.
 * @returns undefined when the field is absent.
 */
export function jsonField(body: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  let value = body[field];
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw ValidationError.field(field, 'Value must be valid JSON.');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ValidationError.field(field, 'Must be a dictionary.');
  return value as Record<string, unknown>;
}

/** A required non-blank string field, with DRF's messages. */
export function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null) throw ValidationError.field(field, 'This field is required.');
  if (typeof value !== 'string' && typeof value !== 'number') throw ValidationError.field(field, 'Not a valid string.');
  const text = String(value);
  if (text.trim() === '') throw ValidationError.field(field, 'This field may not be blank.');
  return text;
}

/** An optional string field; absent, null or blank gives undefined. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw ValidationError.field(field, 'Not a valid string.');
  return String(value);
}
