import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHttp, probeTcp } from './network-probes.ts';

describe('network probes', () => {
  const server = createServer((req, res) => {
    if (req.url === '/ok') res.writeHead(req.headers['x-probe'] === 'yes' ? 204 : 500).end();
    else if (req.url === '/moved') res.writeHead(302, { location: '/ok' }).end();
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 2_000);
    else res.writeHead(404).end();
  });
  let port = 0;
  // A port nothing listens on: bound and closed again.
  let closedPort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    closedPort = (other.address() as AddressInfo).port;
    await new Promise((resolve) => other.close(resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('connects by TCP, and says why not', async () => {
    expect(await probeTcp('127.0.0.1', port, 1_000)).toBeNull();
    expect(await probeTcp('127.0.0.1', closedPort, 1_000)).toMatch(/ECONNREFUSED/);
  });

  it('passes on 2xx and 3xx with the given headers, and fails otherwise', async () => {
    expect(await probeHttp('127.0.0.1', port, '/ok', { 'X-Probe': 'yes' }, 1_000)).toBeNull();
    expect(await probeHttp('127.0.0.1', port, '/moved', {}, 1_000)).toBeNull();
    expect(await probeHttp('127.0.0.1', port, '/ok', {}, 1_000)).toMatch(/answered 500/);
    expect(await probeHttp('127.0.0.1', port, '/nope', {}, 1_000)).toMatch(/answered 404/);
    expect(await probeHttp('127.0.0.1', closedPort, '/ok', {}, 1_000)).toMatch(/ECONNREFUSED/);
    const began = Date.now();
    expect(await probeHttp('127.0.0.1', port, '/slow', {}, 200)).toMatch(/timed out/);
    expect(Date.now() - began).toBeLessThan(1_500);
  });

  it('refuses a path or header that would add lines to the request, and fails on an answer that is not HTTP', async () => {
    expect(await probeHttp('127.0.0.1', port, '/ok HTTP/1.1\r\nX-Probe: yes\r\n', {}, 1_000)).toMatch(/not a valid request path/);
    expect(await probeHttp('127.0.0.1', port, '/ok', { 'X-Probe': 'yes\r\nX-Other: 1' }, 1_000)).toMatch(/not a valid header/);
    const sockets: Socket[] = [];
    const notHttp = createNetServer((socket) => {
      sockets.push(socket);
      socket.write('SSH-2.0-OpenSSH\r\n');
    });
    await new Promise<void>((resolve) => notHttp.listen(0, '127.0.0.1', resolve));
    try {
      expect(await probeHttp('127.0.0.1', (notHttp.address() as AddressInfo).port, '/', {}, 1_000)).toMatch(/not HTTP/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => notHttp.close(resolve));
    }
  });
});
