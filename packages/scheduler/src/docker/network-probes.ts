/**
 * One attempt of a TCP or HTTP readiness check from the host to a container's address on the platform network.
 * Each returns null when the check passed, otherwise why not (shown to the user when readiness never comes).
 * @module
 */
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

/** What may go in a request line's path and a header, so nothing a config holds can add a line of its own. */
const PATH = /^\/[\x21-\x7e]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Passes on any 2xx or 3xx answer, as Kubernetes' httpGet probe does. Written on a bare socket: only the status line
 * matters, and the monitor runs hundreds of these a second, where Node's HTTP client costs twice the CPU
 * (bench/operations.ts).
 */
export function probeHttp(host: string, port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<string | null> {
  const what = `HTTP GET ${path} on port ${port}`;
  if (!PATH.test(path)) return Promise.resolve(`${what}: the path is not a valid request path`);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host.includes(':') ? `[${host}]` : host}:${port}`, 'User-Agent: deis-probe/1.0', 'Accept: */*', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) return Promise.resolve(`${what}: header ${JSON.stringify(name)} is not a valid header`);
    lines.push(`${name}: ${value}`);
  }
  const request = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    let settled = false;
    const finish = (why: string | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(why);
    };
    socket.setEncoding('latin1');
    socket.setTimeout(timeoutMs, () => finish(`${what} timed out`));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n');
      if (end === -1) {
        if (received.length > 4096) finish(`${what}: the answer is not HTTP`);
        return;
      }
      const status = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/.exec(received.slice(0, end));
      if (!status) return finish(`${what}: the answer is not HTTP`);
      const code = Number(status[1]);
      finish(code >= 200 && code < 400 ? null : `${what} answered ${code}`);
    });
    socket.once('end', () => finish(`${what}: the connection closed without an answer`));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(`${what}: ${error.code ?? error.message}`));
  });
}
