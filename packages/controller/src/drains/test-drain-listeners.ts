/**
 * For tests: local collectors a drain sends to, on 127.0.0.1: a syslog listener (TCP, or TLS with a given certificate)
 * reading RFC 6587 octet-counted frames, and an HTTPS listener reading `application/logplex-1` POSTs. Each keeps the
 * RFC 5424 messages it received, in order.
 * @module
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface TestCollector {
  port: number;
  messages: string[];
  close(): Promise<void>;
}

/** Splits `<length> <message>` frames; returns what is left of an incomplete one. */
function readFrames(pending: Buffer, onMessage: (message: string) => void): Buffer {
  let rest = pending;
  for (;;) {
    const space = rest.indexOf(0x20);
    if (space < 0) return rest;
    const length = Number(rest.subarray(0, space).toString('ascii'));
    if (!Number.isInteger(length) || rest.length < space + 1 + length) return rest;
    onMessage(rest.subarray(space + 1, space + 1 + length).toString('utf8'));
    rest = rest.subarray(space + 1 + length);
  }
}

async function listen(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

export async function startSyslogCollector(tls?: { certificate: string; key: string }): Promise<TestCollector> {
  const messages: string[] = [];
  const onSocket = (socket: Socket) => {
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = readFrames(Buffer.concat([pending, chunk]), (message) => messages.push(message));
    });
    socket.on('error', () => undefined);
  };
  const server = tls ? createTlsServer({ cert: tls.certificate, key: tls.key }, onSocket) : createTcpServer(onSocket);
  const sockets = new Set<Socket>();
  const port = await listen(server, sockets);
  return { port, messages, close: closer(server, sockets) };
}

export async function startHttpsCollector(tls: { certificate: string; key: string }, answer: () => number = () => 200): Promise<TestCollector & { requests: Array<{ count: string | undefined; authorization: string | undefined }> }> {
  const messages: string[] = [];
  const requests: Array<{ count: string | undefined; authorization: string | undefined }> = [];
  const server = createHttpsServer({ cert: tls.certificate, key: tls.key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = answer();
      if (status >= 200 && status < 300) {
        requests.push({ count: request.headers['logplex-msg-count'] as string | undefined, authorization: request.headers.authorization });
        readFrames(Buffer.concat(chunks), (message) => messages.push(message));
      }
      response.writeHead(status).end();
    });
  });
  const sockets = new Set<Socket>();
  const port = await listen(server, sockets);
  return { port, messages, requests, close: closer(server, sockets) };
}
