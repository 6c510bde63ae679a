/**
 * The build hook's streamed answer: the builder asks for it (`Accept: application/x-ndjson`) so that the pusher sees
 * the release phase's output while the release deploys, as `remote:` lines, rather than only once it ends. Each line
 * is a JSON object (`BuildHookStreamLine`): output and warnings as they come, then the outcome, the status and body
 * the plain answer would have had. Callers that do not ask get the plain answer.
 * @module
 */
import { PassThrough } from 'node:stream';
import { DeisError } from '@deis/core/errors';
import { BUILD_HOOK_STREAM_TYPE } from '@deis/sdk/types';
import type { BuildHookStreamLine } from '@deis/sdk/types';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorAnswer } from '../http/error-handler.ts';

export function wantsStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').split(',').some((type) => type.trim().split(';')[0] === BUILD_HOOK_STREAM_TYPE);
}

export interface StreamedWork<T> {
  /** Runs the request's work; `output` sends text to the caller as it comes. */
  run: (output: (text: string) => void) => Promise<{ status: number; body: T; warning: string | null }>;
}

/**
 * Answers 200 at once and streams the work's output, then its outcome. An error the work throws becomes the outcome
 * line with the status and body the error handler would have answered.
 */
export function sendStreamed<T>(request: FastifyRequest, reply: FastifyReply, work: StreamedWork<T>): FastifyReply {
  const stream = new PassThrough();
  const send = (line: BuildHookStreamLine) => {
    if (!stream.writableEnded) stream.write(`${JSON.stringify(line)}\n`);
  };
  void work
    .run((text) => send({ output: text }))
    .then(({ status, body, warning }) => {
      if (warning !== null) send({ warning });
      send({ status, body });
    })
    .catch((error: unknown) => {
      if (error instanceof DeisError) {
        send(errorAnswer(error));
      } else {
        request.log.error({ err: error }, 'unhandled error');
        send({ status: 500, body: { detail: 'Server Error' } });
      }
    })
    .finally(() => stream.end());
  return reply.code(200).type(BUILD_HOOK_STREAM_TYPE).header('cache-control', 'no-cache').send(stream);
}
