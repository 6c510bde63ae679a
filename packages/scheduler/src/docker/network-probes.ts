/**
 * One attempt of a TCP or HTTP readiness check from the host to a container's address on the platform network.
 * Each returns null when the check passed, otherwise why not (shown to the user when readiness never comes).
 * @module
 */
import { request } from 'node:http';
import { connect } from 'node:net';

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => finish(`TCP connect to port ${port} timed out`));
    socket.once('connect', () => finish(null));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(`TCP connect to port ${port}: ${error.code ?? error.message}`));
  });
}

/** Passes on any 2xx or 3xx answer, as Kubernetes' httpGet probe does. */
export function probeHttp(host: string, port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (why: string | null) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(why);
    };
    const req = request({ host, port, path, method: 'GET', headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      finish(status >= 200 && status < 400 ? null : `HTTP GET ${path} on port ${port} answered ${status}`);
    });
    req.setTimeout(timeoutMs, () => finish(`HTTP GET ${path} on port ${port} timed out`));
    req.once('error', (error: NodeJS.ErrnoException) => finish(`HTTP GET ${path} on port ${port}: ${error.code ?? error.message}`));
    req.end();
  });
}
