/**
 * The one place where errors become HTTP responses, in the body shapes of the Deis v2 contract (§1.1 "Error bodies"):
 * 400 a field dictionary or `{"detail"}`, 404 a bare JSON string, every other kind `{"detail"}`.
 * @module
 */
import { DeisError, ValidationError } from '@deis/core/errors';
import type { ErrorKind } from '@deis/core/errors';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const statusOfKind: Record<ErrorKind, number> = {
  validation: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
};

/** The status a DeisError answers with; for answers that are not HTTP responses (a WebSocket's error message). */
export function statusOfError(error: DeisError): number {
  return statusOfKind[error.kind];
}

export function sendError(reply: FastifyReply, error: DeisError): FastifyReply {
  const status = statusOfKind[error.kind];
  if (error.kind === 'authentication') reply.header('WWW-Authenticate', 'Token');
  if (error.kind === 'not_found') return reply.code(status).type('application/json').send(JSON.stringify(error.message));
  if (error instanceof ValidationError && error.fields) return reply.code(status).send(error.fields);
  return reply.code(status).send({ detail: error.message });
}

/**
 * The status and body `sendError` would answer, for an answer that is no longer a response of its own (the outcome
 * line of a streamed answer, hooks/build-hook-stream.ts).
 */
export function errorAnswer(error: DeisError): { status: number; body: unknown } {
  const status = statusOfKind[error.kind];
  if (error.kind === 'not_found') return { status, body: error.message };
  if (error instanceof ValidationError && error.fields) return { status, body: error.fields };
  return { status, body: { detail: error.message } };
}

/** Errors Fastify raises itself before a handler runs (bad JSON, oversized body, unsupported media type). */
function fromFastify(error: FastifyError): DeisError | { status: number; detail: string } | null {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, detail: 'Request body is too large.' };
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, detail: `Unsupported media type "${error.message.replace(/^.*: /, '')}" in request.` };
  if (error.statusCode === 400 || error instanceof SyntaxError) return new ValidationError(`JSON parse error - ${error.message}`);
  return null;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof DeisError) return sendError(reply, error);
    const mapped = fromFastify(error);
    if (mapped instanceof DeisError) return sendError(reply, mapped);
    if (mapped) return reply.code(mapped.status).send({ detail: mapped.detail });
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'Server Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('application/json').send(JSON.stringify('Not found.')));
}
