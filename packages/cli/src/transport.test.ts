import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTransport, isLocalhostName } from './transport.ts';

describe('transport', () => {
  it('reaches *.localhost at 127.0.0.1 with the original Host header', async () => {
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        response.setHeader('DEIS_API_VERSION', '2.3');
        response.end(JSON.stringify({ host: request.headers.host, method: request.method, body, auth: request.headers.authorization }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const fetchLike = createTransport({ sslVerify: true });
      const response = await fetchLike(`http://deis.localhost:${port}/v2/apps/?limit=1`, { method: 'POST', headers: { authorization: 'token abc' }, body: '{"id":"x"}' });
      expect(response.status).toBe(200);
      expect(response.headers.get('deis_api_version')).toBe('2.3');
      expect(await response.json()).toEqual({ host: `deis.localhost:${port}`, method: 'POST', body: '{"id":"x"}', auth: 'token abc' });
    } finally {
      server.close();
    }
  });

  it('sends a request again on a new connection when the kept-alive one it reused was closed unread', async () => {
    let requests = 0;
    const server = createServer((request, response) => {
      requests += 1;
      // The second request on the first connection: closed without an answer, as nginx closes idle clients on reload.
      if (requests === 2) return void request.socket.destroy();
      response.end(`answer ${requests} on ${request.socket.remotePort}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const fetchLike = createTransport({ sslVerify: true });
      const first = await (await fetchLike(`http://127.0.0.1:${port}/`, { method: 'GET' })).text();
      const second = await (await fetchLike(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).text();
      expect(first).toMatch(/^answer 1 on \d+$/);
      expect(second).toMatch(/^answer 3 on \d+$/);
      expect(second.split(' ').at(-1)).not.toBe(first.split(' ').at(-1));
      expect(requests).toBe(3);
    } finally {
      server.close();
    }
  });

  it('does not send a request again when its connection was new', async () => {
    const server = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const fetchLike = createTransport({ sslVerify: true });
      await expect(fetchLike(`http://127.0.0.1:${port}/`, { method: 'GET' })).rejects.toThrow('socket hang up');
    } finally {
      server.close();
    }
  });

  it('gives a 204 an empty body', async () => {
    const server = createServer((_request, response) => {
      response.statusCode = 204;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const response = await createTransport({ sslVerify: true })(`http://127.0.0.1:${port}/`, { method: 'DELETE' });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    } finally {
      server.close();
    }
  });

  it('refuses an untrusted certificate unless ssl_verify is off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deis-transport-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=deis.localhost'], { stdio: 'ignore' });
    const server = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_request, response) => response.end('secure'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(createTransport({ sslVerify: true })(`https://deis.localhost:${port}/`, { method: 'GET' })).rejects.toThrow();
      const response = await createTransport({ sslVerify: false })(`https://deis.localhost:${port}/`, { method: 'GET' });
      expect(await response.text()).toBe('secure');
    } finally {
      server.close();
    }
  });

  it('knows localhost names', () => {
    expect(isLocalhostName('deis.localhost')).toBe(true);
    expect(isLocalhostName('localhost')).toBe(true);
    expect(isLocalhostName('localhost.example.com')).toBe(false);
  });
});
