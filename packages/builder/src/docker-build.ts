/**
 * Runs a Docker build on the engine from a tar context, relaying every line the engine writes. Failures carry the
 * engine's own error text, which is what the pusher needs to see.
 * @module
 */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { LineSplitter } from './push-output.ts';

export class ImageBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

interface EngineEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * The engine's own words from a failed API call: dockerode puts the JSON body's `message` in `json` when it could
 * parse it, and otherwise wraps it as `(HTTP code 400) unexpected - <message>`.
 */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message.trim();
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** Follows an engine progress stream to its end; rejects with the first error event's message. */
function followEvents(docker: Dockerode, stream: NodeJS.ReadableStream, onEvent: (event: EngineEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | null = null;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        if (failure !== null) reject(new ImageBuildError(failure));
        else if (error) reject(new ImageBuildError(engineMessage(error)));
        else resolve();
      },
      (event: EngineEvent) => {
        if (failure === null && (event.error || event.errorDetail?.message)) failure = event.errorDetail?.message ?? event.error ?? 'unknown engine error';
        onEvent(event);
      },
    );
  });
}

export interface ImageBuildRequest {
  docker: Dockerode;
  /** A tar stream of the build context, with the Dockerfile at its root. */
  context: Readable;
  tag: string;
  buildArgs?: Record<string, string>;
  /** Build every step afresh (the app's DEIS_DISABLE_CACHE). */
  noCache?: boolean;
  /** What the RUN steps get: the network they run on, and a memory and CPU limit. */
  limits?: { network?: string; memoryBytes: number; cpus: number };
  signal?: AbortSignal;
  onLine: (line: string) => void;
}

/** The engine's build parameters for `limits`: no swap beyond the memory limit, CPU as a quota of 100 ms periods. */
export function buildLimitParameters(limits: NonNullable<ImageBuildRequest['limits']>): Record<string, string | number> {
  const period = 100_000;
  return {
    ...(limits.network ? { networkmode: limits.network } : {}),
    memory: limits.memoryBytes,
    memswap: limits.memoryBytes,
    cpuperiod: period,
    cpuquota: Math.max(1_000, Math.round(limits.cpus * period)),
  };
}

export async function buildImage(request: ImageBuildRequest): Promise<void> {
  const lines = new LineSplitter();
  let stream: NodeJS.ReadableStream;
  try {
    stream = await request.docker.buildImage(request.context, {
      t: request.tag,
      rm: true,
      forcerm: true,
      ...(request.noCache ? { nocache: true } : {}),
      ...(request.limits ? buildLimitParameters(request.limits) : {}),
      ...(request.buildArgs && Object.keys(request.buildArgs).length > 0 ? { buildargs: request.buildArgs } : {}),
      ...(request.signal ? { abortSignal: request.signal } : {}),
    });
  } catch (error) {
    throw new ImageBuildError(engineMessage(error));
  }
  try {
    await followEvents(request.docker, stream, (event) => {
      if (typeof event.stream === 'string') for (const line of lines.push(event.stream)) request.onLine(line);
    });
  } finally {
    for (const line of lines.flush()) request.onLine(line);
  }
  if (request.signal?.aborted) throw new ImageBuildError('the build was interrupted');
}
