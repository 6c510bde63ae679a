/**
 * The HTTP transport the CLI gives the SDK in place of fetch. Hosts ending in `.localhost` are dialled at 127.0.0.1
 * with the original Host header (the router tells the controller apart by it, and this machine has no DNS), and
 * `ssl_verify: false` profiles skip certificate checks, neither of which the global fetch can do.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, errorMessageOf } from '@deis/sdk/client';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  sslVerify: boolean;
}

export function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function readBody(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
  });
}

/**
 * A kept-alive connection the server closed while idle (nginx does so to every idle client when it reloads) fails
 * the next request written on it before the server read any of it; sending it again on a new connection is what
 * browsers and Go's HTTP client do. Only that failure is retried, and only once.
 */
class StaleConnection extends Error {}

export function createTransport(options: TransportOptions): FetchLike {
  return async (url, init) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    // Loaded on first use: `deis --version` and `deis help` never pay for the HTTP stack, and only https loads TLS.
    const send = secure ? (await import('node:https')).request : (await import('node:http')).request;
    const attempt = (): Promise<Response> => new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, key) => {
        headers[key] = value;
      });
      headers.host = target.host;
      const body = typeof init.body === 'string' ? init.body : undefined;
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const request = send({
        host: isLocalhostName(target.hostname) ? '127.0.0.1' : target.hostname,
        port: target.port || (secure ? 443 : 80),
        path: `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers,
        servername: secure ? target.hostname : undefined,
        rejectUnauthorized: options.sslVerify,
      });
      const signal = init.signal;
      if (signal) {
        if (signal.aborted) request.destroy(signal.reason as Error);
        else signal.addEventListener('abort', () => request.destroy(signal.reason as Error), { once: true });
      }
      let answered = false;
      request.on('error', (error: NodeJS.ErrnoException) => {
        reject(!answered && request.reusedSocket && error.code === 'ECONNRESET' && !signal?.aborted ? new StaleConnection(error.message) : error);
      });
      request.on('response', (response) => {
        answered = true;
        readBody(response).then((buffer) => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(response.headers)) {
            if (Array.isArray(value)) for (const item of value) responseHeaders.append(key, item);
            else if (value !== undefined) responseHeaders.set(key, value);
          }
          const status = response.statusCode ?? 500;
          const empty = status === 204 || status === 304 || buffer.length === 0;
          resolve(new Response(empty ? null : buffer, { status, headers: responseHeaders }));
        }, reject);
      });
      request.end(body);
    });
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof StaleConnection) return attempt();
      throw error;
    }
  };
}

/**
 * A GET whose answer is read as it arrives (`deis logs -f`): resolves with the response once its headers are in, the
 * body left to the caller. Hosts and certificates are treated as `createTransport` treats them.
 */
export async function openStream(url: string, headers: Record<string, string>, options: TransportOptions & { signal?: AbortSignal }): Promise<IncomingMessage> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const send = secure ? (await import('node:https')).request : (await import('node:http')).request;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = send({
      host: isLocalhostName(target.hostname) ? '127.0.0.1' : target.hostname,
      port: target.port || (secure ? 443 : 80),
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { ...headers, host: target.host },
      servername: secure ? target.hostname : undefined,
      rejectUnauthorized: options.sslVerify,
    });
    if (options.signal) options.signal.addEventListener('abort', () => request.destroy(options.signal?.reason as Error), { once: true });
    request.on('error', reject);
    request.on('response', resolve);
    request.end();
  });
}

/**
 * The API's error for a refusal read off a raw response (a stream's or an upgrade's), so that it is reported as any
 * API error is: a JSON body gives its message, anything else (a proxy's HTML page) is the message as it is.
 */
export async function refusalOf(status: number, response: NodeJS.ReadableStream): Promise<ApiError> {
  const text = await new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    response.on('data', (chunk: Buffer | string) => chunks.push(Buffer.from(chunk)));
    response.once('end', done);
    response.once('error', done);
  });
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text itself.
  }
  return new ApiError(status, body, errorMessageOf(body));
}
