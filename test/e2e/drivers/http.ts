/**
 * HTTP through the router, by host name, without DNS: connects to 127.0.0.1 and sends the Host header.
 * @module
 */
import { request as httpRequest } from 'node:http';

export interface RouterResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function viaRouter(port: number, host: string, path = '/', options: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RouterResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: { host, connection: 'close', ...options.headers }, timeout: options.timeoutMs ?? 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `accept` holds for a response (or the time runs out, returning the last one). */
export async function pollRouter(
  port: number,
  host: string,
  accept: (response: RouterResponse) => boolean,
  options: { path?: string; timeoutMs?: number } = {},
): Promise<RouterResponse> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: RouterResponse = { status: 0, headers: {}, body: '' };
  while (Date.now() < deadline) {
    try {
      last = await viaRouter(port, host, options.path ?? '/');
      if (accept(last)) return last;
    } catch (error) {
      last = { status: 0, headers: {}, body: String(error) };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}
