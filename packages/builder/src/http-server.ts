/**
 * The smart-HTTP side of `git push`: HTTP basic auth with the user's name and API token, checked against the
 * controller, then `git http-backend` as a CGI program for `/<app>.git/…`. The router proxies `deis-builder.<domain>` here.
 * The controller also calls `DELETE /apps/<app>` here, with the builder key, when it destroys an app.
 * @module
 */
import { spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControllerHooks } from './controller-hooks.ts';
import { gitProcessEnv } from './git-environment.ts';
import { errPktLine, FLUSH_PKT, pktLine } from './pkt-line.ts';
import { PUSH_ONGOING } from './push-lock.ts';
import { PushSizeCounter, pushTooLargeMessage } from './push-size-limit.ts';
import type { PushSession, PushSessions } from './push-sessions.ts';

export interface HttpServerOptions {
  port: number;
  listenAddress: string;
  reposDir: string;
  hooks: ControllerHooks;
  sessions: PushSessions;
  socketPath: string;
  ensureRepository: (app: string, appUuid: string) => Promise<string>;
  /** The most one push may send (push-size-limit.ts). */
  pushSizeLimitBytes: number;
  /** Sent by the controller when it destroys an app (`X-Deis-Builder-Auth`). */
  builderKey: string;
  /** Removes what the builder keeps of a destroyed app. */
  forgetApp: (app: string, appUuid: string) => Promise<void>;
  log: (message: string) => void;
}

export type SmartHttpRequest =
  | { app: string; kind: 'advertise'; service: 'git-receive-pack' | 'git-upload-pack' }
  | { app: string; kind: 'rpc'; service: 'git-receive-pack' | 'git-upload-pack' };

/** The smart-HTTP requests this server answers; dumb HTTP and anything else is not served. */
export function parseSmartHttpRequest(method: string, url: string): SmartHttpRequest | null {
  const { pathname, searchParams } = new URL(url, 'http://builder');
  const match = /^\/([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.git)?\/(info\/refs|git-receive-pack|git-upload-pack)$/.exec(pathname);
  if (!match?.[1] || !match[2]) return null;
  const app = match[1];
  if (match[2] === 'info/refs') {
    const service = searchParams.get('service');
    if (method !== 'GET' || (service !== 'git-receive-pack' && service !== 'git-upload-pack')) return null;
    return { app, kind: 'advertise', service };
  }
  if (method !== 'POST') return null;
  return { app, kind: 'rpc', service: match[2] as 'git-receive-pack' | 'git-upload-pack' };
}

/** `user:token` from an `Authorization: Basic …` header. */
export function basicCredentials(header: string | undefined): { username: string; token: string } | null {
  const match = /^basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  res.end(`${text}\n`);
}

/** A git protocol answer that makes the client stop with `fatal: remote error: <message>`. */
function gitRefusal(res: ServerResponse, request: SmartHttpRequest, message: string): void {
  const type = request.kind === 'advertise' ? 'advertisement' : 'result';
  res.writeHead(200, { 'content-type': `application/x-${request.service}-${type}`, 'cache-control': 'no-cache' });
  const preamble = request.kind === 'advertise' ? pktLine(`# service=${request.service}\n`) + FLUSH_PKT : '';
  res.end(preamble + errPktLine(message));
}

/**
 * A refused push's answer once git is sending its pack: the client asked for side-band-64k (receive-pack offers it and
 * every git since 1.6 takes it), so the reason goes on band 3, which git prints as `remote error` before it stops.
 */
function receiveRefusal(res: ServerResponse, message: string): void {
  res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result', 'cache-control': 'no-cache' });
  res.end(pktLine(`\x03${message}\n`) + FLUSH_PKT);
}

/** Runs `git http-backend` for one request, relaying its CGI answer. Resolves when git has exited. */
function runHttpBackend(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions, user: string, session: PushSession | null): Promise<void> {
  const { pathname, search } = new URL(req.url ?? '/', 'http://builder');
  // Repositories are named `<app>.git` on disk whether or not the URL says `.git`.
  const pathInfo = pathname.replace(/^\/([^/]+?)(?:\.git)?\//, '/$1.git/');
  const cgi: Record<string, string> = {
    GIT_PROJECT_ROOT: options.reposDir,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: pathInfo,
    QUERY_STRING: search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
  };
  if (req.headers['content-length']) cgi.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) cgi.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') cgi.GIT_PROTOCOL = protocol;

  return new Promise((resolve) => {
    const git = spawn('git', ['http-backend'], { env: gitProcessEnv(options.socketPath, session, cgi), stdio: ['pipe', 'pipe', 'pipe'] });
    let refused = false;
    if (session) {
      // A push without a Content-Length (git sends large ones chunked) is counted as it arrives.
      const counter = new PushSizeCounter(options.pushSizeLimitBytes);
      counter.on('error', (error: Error) => {
        refused = true;
        req.unpipe(counter);
        session.abort();
        git.kill('SIGTERM');
        if (!headersSent) receiveRefusal(res, error.message);
        else res.destroy();
        req.resume();
      });
      req.pipe(counter).pipe(git.stdin);
    } else {
      req.pipe(git.stdin);
    }
    git.stdin.on('error', () => undefined);
    res.on('error', () => undefined);
    git.stderr.on('data', (chunk: Buffer) => options.log(`git http-backend: ${chunk.toString().trim()}`));
    let head = Buffer.alloc(0);
    let headersSent = false;
    git.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      const crlf = text.indexOf('\r\n\r\n');
      const lf = text.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
      if (end < 0) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, end).split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(end));
    });
    res.on('close', () => {
      if (git.exitCode === null && git.signalCode === null) {
        session?.abort();
        git.kill('SIGTERM');
      }
    });
    git.on('error', (error) => {
      options.log(`git http-backend failed to start: ${error.message}`);
      if (!headersSent) plain(res, 500, 'The builder could not run git.');
      resolve();
    });
    git.on('close', () => {
      if (refused) return resolve();
      if (!headersSent) plain(res, 500, 'git http-backend gave no answer.');
      else res.end();
      resolve();
    });
  });
}

/** `DELETE /apps/<app>?uuid=<uuid>` from the controller: the app is destroyed; forget its repository, cache and slugs. */
async function forget(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<boolean> {
  if (req.method !== 'DELETE') return false;
  const { pathname, searchParams } = new URL(req.url ?? '/', 'http://builder');
  const match = /^\/apps\/([a-z0-9]+(?:-[a-z0-9]+)*)$/.exec(pathname);
  const uuid = searchParams.get('uuid') ?? '';
  if (!match?.[1]) return false;
  const given = Buffer.from(String(req.headers['x-deis-builder-auth'] ?? ''));
  const key = Buffer.from(options.builderKey);
  if (given.length !== key.length || !timingSafeEqual(given, key)) {
    plain(res, 403, 'You do not have permission to perform this action.');
    return true;
  }
  if (!/^[0-9a-f-]{36}$/.test(uuid)) {
    plain(res, 400, 'uuid: the uuid of the destroyed app is required.');
    return true;
  }
  await options.forgetApp(match[1], uuid);
  res.writeHead(204).end();
  return true;
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<void> {
  if (await forget(req, res, options)) return;
  const request = parseSmartHttpRequest(req.method ?? 'GET', req.url ?? '/');
  if (!request) return plain(res, 404, 'Not found: this server answers git smart-HTTP requests for /<app>.git only.');

  const credentials = basicCredentials(req.headers.authorization);
  const challenge = { 'www-authenticate': 'Basic realm="Deis Workflow"' };
  if (!credentials) return plain(res, 401, 'Authenticate with your Deis username and API token (the token is in ~/.deis/client.json after `deis login`).', challenge);
  const user = await options.hooks.whoami(credentials.token);
  if (!user || user.username !== credentials.username) return plain(res, 401, 'Invalid username or token.', challenge);
  const access = await options.hooks.appAccess(credentials.token, request.app);
  if (access === 'missing') return plain(res, 404, `App ${request.app} does not exist.`);
  if (access === 'forbidden') return plain(res, 403, `User ${user.username} does not have permission to use app ${request.app}.`);

  await options.ensureRepository(request.app, access.uuid);
  if (request.service === 'git-upload-pack') return runHttpBackend(req, res, options, user.username, null);
  // A push is two requests; the lock is taken by the one that receives, and the first one already warns.
  if (request.kind === 'advertise') {
    if (options.sessions.isPushing(request.app)) return gitRefusal(res, request, PUSH_ONGOING);
    return runHttpBackend(req, res, options, user.username, null);
  }
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > options.pushSizeLimitBytes) {
    req.resume();
    return receiveRefusal(res, pushTooLargeMessage(options.pushSizeLimitBytes));
  }
  const session = options.sessions.begin(request.app, user.username);
  if (!session) return gitRefusal(res, request, PUSH_ONGOING);
  options.log(`${user.username} pushes to ${request.app} over HTTP`);
  try {
    await runHttpBackend(req, res, options, user.username, session);
  } finally {
    await session.finish();
  }
}

export interface RunningHttpServer {
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      options.log(`git over HTTP failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) plain(res, 502, 'The builder could not reach the controller; try again.');
      else res.destroy();
    });
  });
  // A push request lasts as long as its build and deploy, which can take many minutes: Node's default 5-minute
  // request timeout would cut it off mid-build.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.listenAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
