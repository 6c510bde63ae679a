/**
 * The router for real: a controller listening on loopback, the router's control loop, real nginx, and small HTTP
 * servers as the apps' containers. Every request goes to 127.0.0.1 with a Host header.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeTime } from '@deis/controller/clock';
import { useUpstreamSource } from '@deis/controller/routing/routing-table';
import { DEFAULT_SETTINGS, insertSettings, latestSettings } from '@deis/controller/settings/settings-store';
import type { SettingsValues } from '@deis/controller/settings/settings-store';
import { startTestController, TEST_BUILDER_KEY } from '@deis/controller/testing/test-controller';
import type { TestController } from '@deis/controller/testing/test-controller';
import { startRouter } from '@deis/router/router';
import type { RunningRouter } from '@deis/router/router';
import type { RouteUpstream } from '@deis/sdk/types';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  peerCommonName?: string;
}

interface Backend {
  name: string;
  server: Server;
  upstream: RouteUpstream;
}

/** An app container stand-in: answers with its name and what it was sent, and echoes on an upgraded connection. */
async function startBackend(name: string): Promise<Backend> {
  const server = createServer((request, response) => {
    let bodyLength = 0;
    request.on('data', (chunk: Buffer) => (bodyLength += chunk.length));
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ name, url: request.url, method: request.method, bodyLength, headers: request.headers }));
    });
  });
  server.on('upgrade', (request, socket: Socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\n\r\n`);
    socket.on('data', (data) => socket.write(`${name}:${data.toString()}`));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name, server, upstream: { host: '127.0.0.1', port: (server.address() as AddressInfo).port } };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function makeCertificate(dir: string, commonName: string, bits = 2048): { certificate: string; key: string } {
  const keyPath = join(dir, `${commonName}.key`);
  const certificatePath = join(dir, `${commonName}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', `rsa:${bits}`, '-nodes', '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`, '-days', '2', '-keyout', keyPath, '-out', certificatePath], { stdio: 'ignore' });
  return { certificate: readFileSync(certificatePath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

let controller: TestController;
let router: RunningRouter;
let dataDir: string;
let httpPort: number;
let httpsPort: number;
let ownerId: number;
const backends: Record<string, Backend> = {};
const upstreams = new Map<string, RouteUpstream[]>();
const errors: Error[] = [];
const appUuids = new Map<string, string>();
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const nextTime = () => storeTime(new Date((clock += 1000)));

function get(host: string, path = '/', options: { headers?: Record<string, string>; agent?: Agent } = {}): Promise<Answer & { localPort?: number }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: httpPort, path, agent: options.agent ?? false, headers: { host, ...options.headers } }, (response) => {
      let body = '';
      const localPort = response.socket.localPort;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, localPort }));
    });
    request.on('error', reject);
    request.end();
  });
}

function post(host: string, bytes: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: httpPort, path: '/upload', method: 'POST', agent: false, headers: { host, 'content-length': String(bytes) } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    // nginx may answer 413 before it has read the whole body, and close.
    request.on('error', (error) => (error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error)));
    request.end(Buffer.alloc(bytes, 'x'));
  });
}

function getTls(host: string, path = '/', ca?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      { host: '127.0.0.1', port: httpsPort, path, agent: false, servername: host, headers: { host }, ...(ca ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false }) },
      (response) => {
        const peer = (response.socket as TLSSocket).getPeerCertificate();
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, peerCommonName: peer.subject ? String(peer.subject.CN) : undefined }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

async function addApp(id: string, options: { upstreams?: RouteUpstream[]; domains?: Array<{ domain: string; certId?: number }> } = {}): Promise<string> {
  const uuid = randomUUID();
  const now = nextTime();
  await controller.deps.db.insertInto('apps').values({ uuid, id, owner_id: ownerId, structure: '{}', created: now, updated: now }).execute();
  for (const { domain, certId } of options.domains ?? []) {
    await controller.deps.db.insertInto('domains').values({ uuid: randomUUID(), app_uuid: uuid, owner_id: ownerId, domain, cert_id: certId ?? null, created: now, updated: now }).execute();
  }
  upstreams.set(id, options.upstreams ?? []);
  appUuids.set(id, uuid);
  return uuid;
}

async function setSettings(app: string, values: Partial<SettingsValues>): Promise<void> {
  const { db } = controller.deps;
  const appUuid = appUuids.get(app) ?? '';
  await insertSettings(db, appUuid, ownerId, { ...DEFAULT_SETTINGS, ...values }, await latestSettings(db, appUuid));
}

async function addCert(name: string, pair: { certificate: string; key: string }): Promise<number> {
  const now = nextTime();
  const row = await controller.deps.db
    .insertInto('certs')
    .values({ owner_id: ownerId, name, ...pair, common_name: name, san: '[]', fingerprint: name, expires: now, starts: now, issuer: '', subject: '', created: now, updated: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Marks the table changed and resolves once nginx serves that generation. */
async function applied(): Promise<number> {
  const generation = controller.deps.routing.changed();
  const deadline = Date.now() + 15_000;
  while (router.generation() < generation) {
    if (Date.now() > deadline) throw new Error(`the router did not apply generation ${generation}; errors: ${errors.map((e) => e.message).join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return generation;
}

const json = (answer: Answer) => JSON.parse(answer.body) as { name: string; url: string; bodyLength: number; headers: IncomingHttpHeaders };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'deis-router-test-'));
  for (const name of ['one', 'two', 'three']) backends[name] = await startBackend(name);
  controller = await startTestController({ platformDomain: 'example.test' });
  await controller.user('owner');
  ownerId = (await controller.deps.db.selectFrom('users').select('id').where('username', '=', 'owner').executeTakeFirstOrThrow()).id;
  useUpstreamSource(controller.deps, async (_deps, app) => upstreams.get(app.id) ?? []);
  await controller.app.listen({ host: '127.0.0.1', port: 0 });
  const controllerPort = (controller.app.server.address() as AddressInfo).port;
  httpPort = await freePort();
  httpsPort = await freePort();
  router = await startRouter({
    controllerUrl: `http://127.0.0.1:${controllerPort}`,
    builderKey: TEST_BUILDER_KEY,
    dataDir,
    httpPort,
    httpsPort,
    listenAddress: '127.0.0.1',
    workerProcesses: 2,
    onError: (error) => errors.push(error),
  });
});

afterAll(async () => {
  await router?.stop();
  await controller?.close();
  for (const backend of Object.values(backends)) {
    backend.server.closeAllConnections();
    await new Promise((resolve) => backend.server.close(resolve));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the router with nginx', () => {
  it('serves the table it had when it started, and answers 404 for unknown hosts and 200 on /healthz', async () => {
    expect(router.generation()).toBe(controller.deps.routing.generation);
    const unknown = await get('nobody.example.test');
    expect(unknown.status).toBe(404);
    expect((await get('nobody.example.test', '/healthz')).status).toBe(200);
  });

  it('routes the controller as deis.<domain>', async () => {
    const answer = await get('deis.example.test', '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.headers['deis_api_version']).toBe('2.3');
  });

  it('routes each app by host name: its own name, custom domains and wildcards', async () => {
    await addApp('alpha', { upstreams: [backends.one!.upstream], domains: [{ domain: 'www.alpha.test' }, { domain: '*.wild.test' }] });
    await addApp('beta', { upstreams: [backends.two!.upstream] });
    await applied();
    expect(json(await get('alpha.example.test')).name).toBe('one');
    expect(json(await get('www.alpha.test')).name).toBe('one');
    expect(json(await get('anything.wild.test')).name).toBe('one');
    expect(json(await get('beta.example.test', '/some/path?x=1')).url).toBe('/some/path?x=1');
    expect(json(await get('beta.example.test')).name).toBe('two');
    expect((await get('wild.test')).status).toBe(404);
  });

  it('sends the Host and X-Forwarded-* headers upstream', async () => {
    const { headers } = json(await get('beta.example.test', '/', { headers: { 'x-request-id': 'req-1' } }));
    expect(headers.host).toBe('beta.example.test');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-port']).toBe(String(httpPort));
    expect(headers['x-request-id']).toBe('req-1');
  });

  it('passes request bodies up to 1 MB to apps and refuses larger ones with 413', async () => {
    const answer = await post('beta.example.test', 500_000);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'POST', bodyLength: 500_000 });
    expect((await post('beta.example.test', 2_000_000)).status).toBe(413);
  });

  it('balances over every upstream of an app', async () => {
    upstreams.set('beta', [backends.two!.upstream, backends.three!.upstream]);
    await applied();
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(json(await get('beta.example.test')).name);
    expect([...seen].sort()).toEqual(['three', 'two']);
  });

  it('goes on to the next upstream when one refuses connections', async () => {
    const gone = await startBackend('gone');
    await new Promise((resolve) => gone.server.close(resolve));
    upstreams.set('beta', [gone.upstream, backends.two!.upstream]);
    await applied();
    for (let i = 0; i < 6; i++) expect((await get('beta.example.test')).status).toBe(200);
  });

  it('answers 503 for an app with no ready containers', async () => {
    await addApp('empty');
    await applied();
    const answer = await get('empty.example.test');
    expect(answer.status).toBe(503);
  });

  it('answers 503 with the maintenance page while maintenance is on, and serves again once it is off', async () => {
    await addApp('busy', { upstreams: [backends.one!.upstream] });
    await setSettings('busy', { maintenance: true });
    await applied();
    const answer = await get('busy.example.test');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.body).toContain('<title>Site Maintenance</title>');
    await setSettings('busy', { maintenance: false });
    await applied();
    expect((await get('busy.example.test')).status).toBe(200);
  });

  it('answers 404 for an app that is not routable', async () => {
    await addApp('hidden', { upstreams: [backends.one!.upstream] });
    await applied();
    expect((await get('hidden.example.test')).status).toBe(200);
    await setSettings('hidden', { routable: false });
    await applied();
    expect((await get('hidden.example.test')).status).toBe(404);
  });

  it('answers 403 to a client outside the whitelist, also in maintenance, and serves one inside it', async () => {
    await addApp('private', { upstreams: [backends.one!.upstream] });
    await setSettings('private', { whitelist: ['100.64.9.9', '100.65.0.0/16'] });
    await applied();
    expect((await get('private.example.test')).status).toBe(403);
    await setSettings('private', { whitelist: ['100.64.9.9'], maintenance: true });
    await applied();
    expect((await get('private.example.test')).status).toBe(403);
    await setSettings('private', { whitelist: ['127.0.0.0/8'] });
    await applied();
    expect(json(await get('private.example.test')).name).toBe('one');
    await setSettings('private', { whitelist: ['127.0.0.1'] });
    await applied();
    expect(json(await get('private.example.test')).name).toBe('one');
  });

  it('redirects plain HTTP to HTTPS with 301 when the app enforces TLS, and serves HTTPS', async () => {
    const uuid = await addApp('strict', { upstreams: [backends.two!.upstream] });
    const now = nextTime();
    await controller.deps.db.insertInto('tls').values({ uuid: randomUUID(), app_uuid: uuid, owner_id: ownerId, https_enforced: 1, created: now, updated: now }).execute();
    await applied();
    const answer = await get('strict.example.test', '/path?q=1');
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe(`https://strict.example.test:${httpsPort}/path?q=1`);
    const secure = await getTls('strict.example.test', '/path?q=1');
    expect(secure.status).toBe(200);
    expect(secure.peerCommonName).toBe('deis-router');
    const { headers } = json(secure);
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-port']).toBe(String(httpsPort));
  });

  it('serves an attached certificate for its domain by SNI, and the default one for other names', async () => {
    const pair = makeCertificate(dataDir, 'secure.example.com');
    const certId = await addCert('secure-cert', pair);
    await addApp('secure', { upstreams: [backends.three!.upstream], domains: [{ domain: 'secure.example.com', certId }] });
    await applied();
    const answer = await getTls('secure.example.com', '/', pair.certificate);
    expect(answer.status).toBe(200);
    expect(answer.peerCommonName).toBe('secure.example.com');
    expect(json(answer).name).toBe('three');
    const other = await getTls('secure.example.test');
    expect(other.peerCommonName).toBe('deis-router');
    expect(json(other).name).toBe('three');
  });

  it('passes WebSocket upgrades through', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: httpPort, path: '/socket', agent: false, headers: { host: 'alpha.example.test', connection: 'Upgrade', upgrade: 'websocket' } });
      request.on('upgrade', (response, socket) => {
        expect(response.statusCode).toBe(101);
        expect(response.headers['x-backend']).toBe('one');
        socket.once('data', (data) => {
          resolve(data.toString());
          socket.destroy();
        });
        socket.write('hello');
      });
      request.on('response', (response) => reject(new Error(`no upgrade: ${response.statusCode}`)));
      request.on('error', reject);
      request.end();
    });
    expect(echoed).toBe('one:hello');
  });

  it('leaves out a certificate nginx refuses, serves its host name with the default one, and goes on', async () => {
    // RSA-512 parses, and its key matches, but OpenSSL's security level makes nginx refuse it.
    const weak = makeCertificate(dataDir, 'weak.example.com', 512);
    const certId = await addCert('weak-cert', weak);
    await addApp('weak', { upstreams: [backends.one!.upstream], domains: [{ domain: 'weak.example.com', certId }] });
    errors.length = 0;
    await applied();
    expect(errors.map((e) => e.message).join('\n')).toContain('nginx refused a certificate');
    const secure = await getTls('weak.example.com');
    expect(secure.peerCommonName).toBe('deis-router');
    expect(json(secure).name).toBe('one');
    expect(json(await get('alpha.example.test')).name).toBe('one');
  });

  it('keeps serving the last good configuration when nginx refuses a new one', async () => {
    const defaultCertificate = join(dataDir, 'default-tls', 'default.crt');
    const saved = readFileSync(defaultCertificate, 'utf8');
    const before = router.generation();
    await addApp('late', { upstreams: [backends.one!.upstream] });
    errors.length = 0;
    // Without the default certificate, no configuration loads.
    rmSync(defaultCertificate);
    try {
      controller.deps.routing.changed();
      const deadline = Date.now() + 10_000;
      while (!errors.some((e) => e.message.includes('nginx rejected')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(errors.map((e) => e.message).join('\n')).toContain('nginx rejected');
      expect(router.generation()).toBe(before);
      expect(json(await get('alpha.example.test')).name).toBe('one');
      expect((await get('late.example.test')).status).toBe(404);
      // The apps nginx routes still follow their deploys: containers need no new configuration.
      upstreams.set('alpha', [backends.two!.upstream]);
      controller.deps.routing.changed();
      const switched = Date.now() + 10_000;
      let name = '';
      while ((name = json(await get('alpha.example.test')).name) !== 'two' && Date.now() < switched) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(name).toBe('two');
    } finally {
      writeFileSync(defaultCertificate, saved);
      upstreams.set('alpha', [backends.one!.upstream]);
    }
    // The next table nginx accepts is served again.
    await applied();
    expect(json(await get('late.example.test')).name).toBe('one');
  });

  it('switches an app\'s containers without a reload, failing no request and closing no kept-alive connection', async () => {
    const revision = async () => (await get('nobody.example.test', '/healthz')).headers['x-deis-router-revision'];
    const revisionBefore = await revision();
    let stop = false;
    const failures: string[] = [];
    let served = 0;
    // A reload would end these: a retiring worker closes its idle kept-alive connections.
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 2 });
    const keptAlivePorts = new Set<number | undefined>();
    const client = async (agent?: Agent) => {
      while (!stop) {
        try {
          const answer = await get('beta.example.test', '/', { agent });
          if (answer.status !== 200) failures.push(`status ${answer.status}`);
          else served += 1;
          if (agent) keptAlivePorts.add(answer.localPort);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = [client(), client(), client(keptAlive), client(keptAlive)];
    try {
      for (let i = 0; i < 8; i++) {
        upstreams.set('beta', [i % 2 === 0 ? backends.three!.upstream : backends.two!.upstream]);
        await applied();
        const expected = i % 2 === 0 ? 'three' : 'two';
        // Every new connection, right after the switch, reaches the new configuration.
        for (let j = 0; j < 5; j++) expect(json(await get('beta.example.test')).name).toBe(expected);
      }
    } finally {
      stop = true;
      await Promise.all(clients);
      keptAlive.destroy();
    }
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
    expect(keptAlivePorts.size).toBeLessThanOrEqual(2);
    expect(await revision()).toBe(revisionBefore);
  });

  it('reloads when host names change, and keeps the peers it had', async () => {
    const revisionBefore = Number((await get('nobody.example.test', '/healthz')).headers['x-deis-router-revision']);
    const { db } = controller.deps;
    const now = nextTime();
    await db.insertInto('domains').values({ uuid: randomUUID(), app_uuid: appUuids.get('beta') ?? '', owner_id: ownerId, domain: 'www.beta.test', cert_id: null, created: now, updated: now }).execute();
    await applied();
    expect(Number((await get('nobody.example.test', '/healthz')).headers['x-deis-router-revision'])).toBeGreaterThan(revisionBefore);
    expect((await get('www.beta.test')).status).toBe(200);
    expect((await get('beta.example.test')).status).toBe(200);
  });

  it('tries a table again when nginx could not take it, without waiting for the next change', async () => {
    const socket = join(dataDir, 'admin.sock');
    errors.length = 0;
    // nginx keeps listening on the moved socket; the router cannot reach it by its name for a while.
    renameSync(socket, `${socket}.away`);
    upstreams.set('beta', [backends.three!.upstream]);
    const generation = controller.deps.routing.changed();
    try {
      const deadline = Date.now() + 10_000;
      while (!errors.some((e) => e.message.includes('ENOENT')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(errors.map((e) => e.message).join('\n')).toContain('ENOENT');
      expect(router.generation()).toBeLessThan(generation);
    } finally {
      renameSync(`${socket}.away`, socket);
    }
    const deadline = Date.now() + 15_000;
    while (router.generation() < generation && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(router.generation()).toBe(generation);
    expect(json(await get('beta.example.test')).name).toBe('three');
  });

  it('reports the generation it applied to the controller', async () => {
    const generation = await applied();
    expect(await controller.deps.routing.waitApplied(generation, 5000)).toBe(true);
    expect(controller.deps.routing.applied).toBeGreaterThanOrEqual(generation);
  });
});

describe('the router when the controller or nginx goes away', () => {
  it("refuses to start without nginx's Lua module, and says which package brings it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deis-router-test-'));
    try {
      const starting = startRouter({ controllerUrl: 'http://127.0.0.1:9', builderKey: TEST_BUILDER_KEY, dataDir: dir, httpPort: await freePort(), httpsPort: await freePort(), listenAddress: '127.0.0.1', nginxModuleDir: join(dir, 'no-modules') });
      await expect(starting).rejects.toThrow(/Lua module is missing .*libnginx-mod-http-lua/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts with no routes while the controller is away, then follows it through a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deis-router-test-'));
    const controllerPort = await freePort();
    const [http, https] = [await freePort(), await freePort()];
    const seen: Error[] = [];
    const lonely = await startRouter({ controllerUrl: `http://127.0.0.1:${controllerPort}`, builderKey: TEST_BUILDER_KEY, dataDir: dir, httpPort: http, httpsPort: https, listenAddress: '127.0.0.1', onError: (e) => seen.push(e) });
    const savedPort = httpPort;
    httpPort = http;
    const instances: TestController[] = [];
    try {
      expect(lonely.generation()).toBe(0);
      expect(seen[0]?.message).toMatch(/controller is not answering yet/);
      expect((await get('nobody.example.test', '/healthz')).status).toBe(200);
      expect((await get('deis.example.test')).status).toBe(404);

      const waitFor = async (condition: () => Promise<boolean>) => {
        const deadline = Date.now() + 15_000;
        while (!(await condition())) {
          if (Date.now() > deadline) throw new Error(`timed out; router errors: ${seen.map((e) => e.message).join(' | ')}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      for (const [app, backend] of [['first', backends.one!], ['second', backends.two!]] as const) {
        const instance = await startTestController({ platformDomain: 'example.test' });
        instances.push(instance);
        await instance.user('owner');
        const owner = (await instance.deps.db.selectFrom('users').select('id').where('username', '=', 'owner').executeTakeFirstOrThrow()).id;
        const now = nextTime();
        await instance.deps.db.insertInto('apps').values({ uuid: randomUUID(), id: app, owner_id: owner, structure: '{}', created: now, updated: now }).execute();
        useUpstreamSource(instance.deps, async () => [backend.upstream]);
        await instance.app.listen({ host: '127.0.0.1', port: controllerPort });
        // A new controller run starts again at generation 1; the router must take its table all the same.
        let answer = await get(`${app}.example.test`);
        await waitFor(async () => (answer = await get(`${app}.example.test`)).status === 200);
        expect(json(answer).name).toBe(backend.name);
        expect((await get('deis.example.test', '/healthz')).status).toBe(200);
        await instance.close();
      }
      expect((await get('first.example.test')).status).toBe(404);
    } finally {
      httpPort = savedPort;
      await lonely.stop();
      for (const instance of instances) await instance.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts nginx again when it dies, on the last good configuration', async () => {
    const pid = Number(readFileSync(join(dataDir, 'nginx.pid'), 'utf8'));
    errors.length = 0;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    let answer: Answer | null = null;
    while (Date.now() < deadline) {
      answer = await get('alpha.example.test').catch(() => null);
      let current = 0;
      try {
        current = Number(readFileSync(join(dataDir, 'nginx.pid'), 'utf8').trim());
      } catch {
        // Between the old nginx and the new one there is no pid file.
      }
      if (answer?.status === 200 && current !== pid) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(errors.map((e) => e.message).join('\n')).toMatch(/nginx exited/);
    expect(answer && json(answer).name).toBe('one');
    // And it still follows changes.
    upstreams.set('alpha', [backends.two!.upstream]);
    await applied();
    expect(json(await get('alpha.example.test')).name).toBe('two');
  });
});
