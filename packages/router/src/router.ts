/**
 * The router's control loop: long-polls the controller for the routing table, writes each app's containers to nginx's
 * peer zone, and, only when host names, certificates or app settings changed, renders nginx's configuration, has nginx
 * check it, swaps it in with a graceful reload and waits until nginx serves it. Then it reports the generation it
 * applied (deploys wait for that before they stop old containers). Deploys and scaling change only the peers, so they
 * never reload nginx (ADR 0009). A table nginx refuses leaves the last good configuration serving; a controller that
 * is away is retried with backoff while nginx keeps serving. In edge mode (a node of a cluster, ADR 0020) nginx runs
 * in the network namespace of a sandbox container on the apps' overlay network, and moves with it when it restarts.
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { ApiClient, ApiError, errorMessageOf } from '@deis/sdk/client';
import { controllerUrls } from '@deis/sdk/controller-urls';
import type { RouteUpstream, RoutingTable } from '@deis/sdk/types';
import { EdgeSandbox, sameRun } from './edge-sandbox.ts';
import type { EdgeSandboxOptions, SandboxRun } from './edge-sandbox.ts';
import { NginxConfigRefused, NginxError, NginxProcess, testNginxConfig } from './nginx-process.ts';
import { DEFAULT_NGINX_MODULE_DIR, peersBody, refusedCertificateDigests, renderNginxConfig, REVISION_HEADER } from './render-nginx-config.ts';
import type { RenderedNginxConfig, RenderOptions } from './render-nginx-config.ts';
import { ensureFileContent, isUsableKeyPair } from './router-files.ts';

export interface RouterOptions {
  /** e.g. `http://127.0.0.1:8000` */
  controllerUrl: string;
  builderKey: string;
  /** nginx's configuration, certificates, pid file, logs and temporary files live here. */
  dataDir: string;
  httpPort: number;
  httpsPort: number;
  /** Absent: every IPv4 address. */
  listenAddress?: string;
  /** Problems: the controller away, a table nginx refused, parts of a table left out. The loop goes on. */
  onError?: (error: Error) => void;
  nginxPath?: string;
  /** Where nginx's dynamic modules (ndk, lua) are; Debian's place when absent. */
  nginxModuleDir?: string;
  workerProcesses?: number | 'auto';
  /** See RenderOptions.connectTimeoutSeconds. */
  connectTimeoutSeconds?: number;
  /** How long the controller may hold a poll open, in seconds (at most 25). */
  pollSeconds?: number;
  /**
   * Edge mode (ADR 0020): nginx runs in the network namespace of a sandbox container on this node's engine, attached
   * to the apps' overlay network and publishing `httpPort` and `httpsPort` on the node (on `listenAddress` when
   * given). Absent: nginx listens on this host's own network, as on one host.
   */
  edge?: EdgeRouterOptions;
}

export interface EdgeRouterOptions extends Omit<EdgeSandboxOptions, 'ports' | 'hostAddress'> {
  /** How often the router checks that the sandbox nginx runs in is still the running one; default 1000 ms. */
  checkIntervalMs?: number;
}

export interface RunningRouter {
  stop(): Promise<void>;
  /** The generation of the routing table nginx serves now; 0 before the first one. */
  generation(): number;
}

/** Must match the controller's routing routes. */
const INSTANCE_HEADER = 'x-deis-routing-instance';
const MAX_BACKOFF_MS = 5000;
/** A unix socket's path must fit in sockaddr_un (108 bytes with its terminating zero). */
const MAX_SOCKET_PATH = 107;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A self-signed certificate for HTTPS on host names without a certificate of their own; made once. */
export async function ensureDefaultCertificate(dir: string): Promise<{ certificatePath: string; keyPath: string }> {
  const certificatePath = join(dir, 'default.crt');
  const keyPath = join(dir, 'default.key');
  // A pair a crash cut short is made again, never served (nginx would refuse to start on it).
  if (isUsableKeyPair(certificatePath, keyPath)) return { certificatePath, keyPath };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Made under other names, then renamed into place: a crash during openssl leaves only those.
  const newCertificate = `${certificatePath}.new`;
  const newKey = `${keyPath}.new`;
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=deis-router', '-days', '3650', '-keyout', newKey, '-out', newCertificate];
  const child = spawn('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`openssl could not make the router's default certificate: ${output.trim()}`);
  renameSync(newKey, keyPath);
  renameSync(newCertificate, certificatePath);
  return { certificatePath, keyPath };
}

function upstreamOf(url: string): RouteUpstream {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
}

/** The loopback address that reaches a listener on `listenAddress`. */
function probeHost(listenAddress: string | undefined): string {
  if (!listenAddress || listenAddress === '0.0.0.0') return '127.0.0.1';
  if (listenAddress === '::') return '::1';
  return listenAddress;
}

/**
 * The revision nginx serves now, read on a fresh connection (a kept-alive one may still reach an old worker): on its
 * HTTP port, or on its unix socket when nginx's ports are in another network namespace (edge mode).
 */
function servedRevision(target: { host: string; port: number } | { socketPath: string }): Promise<number | null> {
  return new Promise((resolve) => {
    const request = httpRequest({ ...target, path: '/healthz', agent: false, headers: { host: 'deis-router-probe.invalid', connection: 'close' }, timeout: 1000 }, (response) => {
      response.resume();
      const value = Number(response.headers[REVISION_HEADER.toLowerCase()]);
      resolve(Number.isInteger(value) ? value : null);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(null));
    request.end();
  });
}

/** Replaces every app's peers in nginx's zone; every worker uses them from its next request on. */
function writePeers(socketPath: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ socketPath, path: '/peers', method: 'PUT', agent: false, headers: { host: 'deis-router', 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }, timeout: 5000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        if (response.statusCode === 200) resolve();
        else reject(new NginxError(`nginx refused the apps' peers with ${response.statusCode}`, text.trim()));
      });
    });
    request.once('timeout', () => request.destroy(new Error('nginx did not take the apps\' peers within 5 s')));
    request.once('error', reject);
    request.end(body);
  });
}

/**
 * The platform's upstreams on a loopback address: the node's own loopback, which nginx in an edge sandbox (a network
 * namespace of its own) cannot reach. Said to the operator, since those routes fail while the apps' work.
 */
function loopbackUpstreams(table: RoutingTable): string[] {
  const upstreams: Array<[string, RouteUpstream | null, string]> = [
    ['controller', table.controller, 'DEIS_CONTROLLER_LISTEN'],
    ['builder', table.builder, 'DEIS_BUILDER_HTTP_UPSTREAM'],
  ];
  return upstreams
    .filter(([, upstream]) => upstream !== null && /^(127\.|::1$|localhost$|0\.0\.0\.0$)/.test(upstream.host))
    .map(([what, upstream, setting]) => `the ${what}'s address ${upstream!.host}:${upstream!.port} is a loopback address, which nginx in the edge sandbox cannot reach; give it an address of its node (${setting})`);
}

interface ControllerAnswer {
  status: number;
  body: unknown;
  instance: string | undefined;
}

/**
 * One request to the controller on a connection of its own, closed when the answer is in or the router stops. A
 * pooled `fetch` connection would outlive the router and hold the controller's `close()` open.
 */
function callController(client: ApiClient, method: string, path: string, options: { query?: Record<string, string | number | undefined>; body?: unknown; timeoutMs: number; signal: AbortSignal }): Promise<ControllerAnswer> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(new Error('the router is stopping'));
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', 'x-deis-builder-auth': client.options.builderKey ?? '', 'user-agent': 'deis-router', connection: 'close' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const request = httpRequest(client.url(path, options.query), { method, agent: false, headers, signal: options.signal, timeout: options.timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', reject);
      response.on('end', () => {
        const header = response.headers[INSTANCE_HEADER];
        const status = response.statusCode ?? 0;
        let body: unknown = text === '' ? undefined : text;
        try {
          if (text !== '') body = JSON.parse(text);
        } catch {
          // Not JSON: kept as text for the error.
        }
        if (status >= 200 && status < 300) resolve({ status, body, instance: typeof header === 'string' ? header : undefined });
        else reject(new ApiError(status, body, `the controller answered ${method} ${path} with ${status}: ${errorMessageOf(body)}`));
      });
    });
    request.once('timeout', () => request.destroy(new Error(`the controller did not answer ${method} ${path} within ${options.timeoutMs} ms`)));
    request.once('error', reject);
    request.end(payload);
  });
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const onError = options.onError ?? (() => {});
  const dataDir = options.dataDir;
  const certDir = join(dataDir, 'certs');
  const tempDir = join(dataDir, 'tmp');
  const logDir = join(dataDir, 'logs');
  for (const dir of [dataDir, certDir, tempDir, logDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configPath = join(dataDir, 'nginx.conf');
  const candidatePath = join(dataDir, 'nginx.conf.next');
  const pidFile = join(dataDir, 'nginx.pid');
  const adminSocket = join(dataDir, 'admin.sock');
  if (Buffer.byteLength(adminSocket) > MAX_SOCKET_PATH) throw new Error(`the router's data directory ${dataDir} is too long a path for its socket ${adminSocket}; choose a shorter one`);
  const edge = options.edge
    ? new EdgeSandbox({ ...options.edge, ports: [options.httpPort, options.httpsPort], ...(options.listenAddress ? { hostAddress: options.listenAddress } : {}) })
    : null;
  const luaModule = join(options.nginxModuleDir ?? DEFAULT_NGINX_MODULE_DIR, 'ngx_http_lua_module.so');
  if (!existsSync(luaModule)) throw new Error(`nginx's Lua module is missing (${luaModule}); install Debian's libnginx-mod-http-lua, as ./platform up does`);
  const location = { nginxPath: options.nginxPath, prefix: dataDir };
  const renderOptions: Omit<RenderOptions, 'revision'> = {
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    // In edge mode the listen address is where the node publishes the ports; inside the sandbox nginx takes them all.
    listenAddress: edge ? undefined : options.listenAddress,
    paths: { pidFile, errorLog: join(logDir, 'error.log'), tempDir, certDir, adminSocket },
    defaultCertificate: await ensureDefaultCertificate(join(dataDir, 'default-tls')),
    workerProcesses: options.workerProcesses,
    ...(options.connectTimeoutSeconds !== undefined ? { connectTimeoutSeconds: options.connectTimeoutSeconds } : {}),
    moduleDir: options.nginxModuleDir,
  };
  // Several controllers (DEIS_CONTROLLER_URL with commas): polled one at a time, the next once one stops answering.
  const urls = controllerUrls(options.controllerUrl);
  const clients = urls.map((baseUrl) => new ApiClient({ baseUrl, builderKey: options.builderKey, userAgent: 'deis-router' }));
  let current = 0;
  const pollSeconds = Math.max(0, Math.min(options.pollSeconds ?? 25, 25));
  const stopping = new AbortController();

  /** The revision of the configuration file nginx (re)starts on, its text, and the text nginx has loaded. */
  let revision = 0;
  let writtenConfig = '';
  let loadedConfig = '';
  let servedGeneration = 0;
  /** The generation of the configuration file and peers nginx (re)starts on. */
  let writtenGeneration = 0;
  /** The peers of the newest table, written again into a restarted nginx's empty zone. */
  let latestPeers = peersBody(0, new Map());
  /** Applied but not yet reported to the controller. */
  let unreported: number | null = null;
  let restarting: Promise<void> | null = null;
  let instance: string | undefined;
  /** The generation of the last table applied from the controller polled now; 0: ask for its whole table. */
  let after = 0;
  let lastProblems = '';
  const refusedCertificates = new Set<string>();
  let nginx: NginxProcess | null = null;
  /** Edge mode: the sandbox run nginx was started in. */
  let nginxSandbox: SandboxRun | null = null;

  const render = (table: RoutingTable, atRevision: number): RenderedNginxConfig => {
    const rendered = renderNginxConfig(table, { ...renderOptions, revision: atRevision, refusedCertificates });
    const all = edge ? [...rendered.problems, ...loopbackUpstreams(table)] : rendered.problems;
    const problems = all.join('\n');
    if (problems !== lastProblems && problems !== '') onError(new Error(`routing table generation ${table.generation}: ${all.join('; ')}`));
    lastProblems = problems;
    return rendered;
  };

  /** Renders a table and writes it as the candidate configuration (certificate files first) at the next revision. */
  /** Certificate and key files known to hold their content since this start (see writeCandidate). */
  const checkedFiles = new Set<string>();
  const writeCandidate = async (table: RoutingTable): Promise<{ revision: number; config: string; files: Set<string>; peers: Map<string, string[]> }> => {
    // A certificate nginx refuses (OpenSSL's policy may be stricter than our checks) is left out and the rest goes on,
    // so that one app's bad certificate never holds back every other app's routes.
    for (;;) {
      const candidateRevision = revision + 1;
      const rendered = render(table, candidateRevision);
      for (const file of rendered.files) {
        // Checked once per file and start: what this process wrote or read back stays right, and a deploy re-renders
        // every table, so reading every certificate again each time would be work on the deploy path.
        if (checkedFiles.has(file.path)) continue;
        ensureFileContent(file.path, file.content, file.mode);
        checkedFiles.add(file.path);
      }
      writeFileSync(candidatePath, rendered.config, { mode: 0o600 });
      try {
        await testNginxConfig({ ...location, configPath: candidatePath });
        return { revision: candidateRevision, config: rendered.config, files: new Set(rendered.files.map((f) => f.path)), peers: rendered.peers };
      } catch (error) {
        const refused = error instanceof NginxError ? refusedCertificateDigests(error.output, certDir).filter((d) => !refusedCertificates.has(d)) : [];
        if (refused.length === 0) throw error;
        onError(new Error(`nginx refused a certificate of routing table generation ${table.generation}; serving its host names without it: ${(error as NginxError).output}`));
        for (const digest of refused) refusedCertificates.add(digest);
      }
    }
  };

  /** Certificates no configuration uses any more; only after nginx has loaded the one that replaced them. */
  const removeUnusedCertificates = (inUse: Set<string>) => {
    for (const name of readdirSync(certDir)) {
      const path = join(certDir, name);
      if (inUse.has(path)) continue;
      rmSync(path, { force: true });
      checkedFiles.delete(path);
    }
  };

  /** Moves the candidate into place: the file nginx reads at its next reload or start. */
  const adoptCandidate = (candidate: { revision: number; config: string }) => {
    renameSync(candidatePath, configPath);
    revision = candidate.revision;
    writtenConfig = candidate.config;
  };

  const startNginx = async (): Promise<NginxProcess> => {
    const sandbox = edge ? await edge.ensure() : null;
    const started = await NginxProcess.start({
      ...location,
      configPath,
      pidFile,
      // A socket file left by an nginx that was killed would keep the new one from listening.
      staleFiles: [adminSocket],
      onExit: (error) => {
        if (stopping.signal.aborted) return;
        onError(error);
        restarting ??= restartNginx().finally(() => (restarting = null));
      },
      ...(sandbox ? { netns: sandbox.netns } : {}),
    });
    nginxSandbox = sandbox;
    return started;
  };

  const restartNginx = async (firstDelayMs = 500) => {
    let backoff = 500;
    let delay = firstDelayMs;
    while (!stopping.signal.aborted) {
      await sleep(delay, stopping.signal);
      if (stopping.signal.aborted) return;
      try {
        const started = await startNginx();
        if (stopping.signal.aborted) return await started.stop();
        nginx = started;
        loadedConfig = writtenConfig;
        // A new nginx starts with an empty peer zone.
        await writePeers(adminSocket, latestPeers);
        // It serves whatever configuration was written last, which may be newer than what it served before it died.
        servedGeneration = writtenGeneration;
        unreported = writtenGeneration;
        return;
      } catch (error) {
        onError(asError(error));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        delay = backoff;
      }
    }
  };

  const apply = async (table: RoutingTable) => {
    const rendered = render(table, revision);
    latestPeers = peersBody(table.generation, rendered.peers);
    // Written first even when nginx is down, so that its restart serves this table.
    let candidate: Awaited<ReturnType<typeof writeCandidate>> | null = null;
    let refused: NginxConfigRefused | null = null;
    if (rendered.config !== loadedConfig) {
      try {
        candidate = await writeCandidate(table);
        adoptCandidate(candidate);
      } catch (error) {
        if (!(error instanceof NginxConfigRefused)) throw error;
        refused = error;
      }
    }
    if (!refused) writtenGeneration = table.generation;
    if (!nginx?.running) throw new NginxError('nginx is not running; the new routes wait for its restart', nginx?.output() ?? '');
    // Peers before the configuration: the zone outlives the reload, so a configuration naming a new app finds its
    // containers there from its first request. Peers go in even when the configuration was refused: every app the
    // last good configuration routes keeps following its deploys.
    await writePeers(adminSocket, latestPeers);
    if (refused) throw refused;
    if (!candidate) {
      servedGeneration = table.generation;
      return;
    }
    await nginx.reload();
    const target = edge ? { socketPath: adminSocket } : { host: probeHost(options.listenAddress), port: options.httpPort };
    const deadline = Date.now() + 15_000;
    while ((await servedRevision(target)) !== candidate.revision) {
      if (Date.now() > deadline) throw new NginxError(`nginx did not take the configuration of generation ${table.generation} within 15 s`, nginx.output());
      await sleep(10, stopping.signal);
      if (stopping.signal.aborted) return;
    }
    loadedConfig = candidate.config;
    servedGeneration = table.generation;
    removeUnusedCertificates(candidate.files);
  };

  /**
   * A call to the controller polled now. When it fails and there are others, the next call goes to the next one, from
   * scratch: its generations count apart, so this router asks for its whole table and reports nothing it applied from
   * the other (ADR 0021).
   */
  const call = async (method: string, path: string, callOptions: Parameters<typeof callController>[3]): Promise<ControllerAnswer> => {
    const index = current;
    try {
      return await callController(clients[index]!, method, path, callOptions);
    } catch (error) {
      if (clients.length > 1 && !stopping.signal.aborted && current === index) {
        current = (index + 1) % clients.length;
        instance = undefined;
        after = 0;
        unreported = null;
      }
      throw error;
    }
  };

  /** The table when it changed since `after`, null when the poll ran out (204). */
  const poll = async (since: number, waitSeconds: number): Promise<{ table: RoutingTable | null; instance: string | undefined }> => {
    const answer = await call('GET', '/v2/hooks/routes', {
      query: { after: since, wait: waitSeconds, instance },
      timeoutMs: (waitSeconds + 15) * 1000,
      signal: stopping.signal,
    });
    const table = answer.status === 200 && answer.body && typeof answer.body === 'object' ? (answer.body as RoutingTable) : null;
    return { table, instance: answer.instance };
  };

  // The first table before nginx starts, so a router whose controller is up serves its routes from its first request.
  let first: RoutingTable | null = null;
  try {
    const response = await poll(0, 0);
    instance = response.instance;
    first = response.table;
  } catch (error) {
    onError(new Error(`the controller is not answering yet (${asError(error).message}); starting with no routes`));
  }
  const bootstrap: RoutingTable = { generation: 0, platformDomain: 'invalid', controller: upstreamOf(urls[0]!), builder: null, apps: [] };
  let firstApplied = false;
  if (first) {
    try {
      const candidate = await writeCandidate(first);
      adoptCandidate(candidate);
      writtenGeneration = first.generation;
      latestPeers = peersBody(first.generation, candidate.peers);
      removeUnusedCertificates(candidate.files);
      firstApplied = true;
    } catch (error) {
      onError(asError(error));
    }
  }
  if (!firstApplied) adoptCandidate(await writeCandidate(bootstrap));
  nginx = await startNginx();
  loadedConfig = writtenConfig;
  try {
    await writePeers(adminSocket, latestPeers);
  } catch (error) {
    await nginx.stop();
    throw error;
  }
  if (firstApplied && first) servedGeneration = first.generation;

  unreported = firstApplied && first ? first.generation : null;
  after = firstApplied && first ? first.generation : 0;

  const loop = (async () => {
    let backoff = 250;
    while (!stopping.signal.aborted) {
      try {
        if (unreported !== null) {
          await call('POST', '/v2/hooks/routes/applied', { body: { generation: unreported }, timeoutMs: 10_000, signal: stopping.signal });
          unreported = null;
        }
        const response = await poll(after, pollSeconds);
        instance = response.instance;
        const table = response.table;
        if (!table) {
          backoff = 250;
          continue;
        }
        try {
          await apply(table);
          after = table.generation;
          backoff = 250;
        } catch (error) {
          // A configuration nginx refuses is refused again until the next change; anything else (nginx away, slow
          // to reload) is tried again with the table the next poll brings back at once.
          if (error instanceof NginxConfigRefused) after = table.generation;
          throw error;
        }
        if (servedGeneration === table.generation) unreported = table.generation;
      } catch (error) {
        if (stopping.signal.aborted) break;
        onError(asError(error));
        await sleep(backoff, stopping.signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  })();

  // Edge mode: an nginx whose sandbox run ended (the container removed, stopped or restarted, the node's engine
  // restarted) serves nobody, though it runs on; it is stopped and started again in the sandbox's new run.
  const sandboxWatch = (async () => {
    if (!edge) return;
    const intervalMs = options.edge?.checkIntervalMs ?? 1000;
    let lastProblem = '';
    while (!stopping.signal.aborted) {
      await sleep(intervalMs, stopping.signal);
      if (stopping.signal.aborted || restarting) continue;
      let run: SandboxRun | null;
      try {
        run = await edge.current();
        lastProblem = '';
      } catch (error) {
        // The engine away (restarting, say): nginx goes on as it is; the sandbox's next run is found when it answers.
        const problem = asError(error).message;
        if (problem !== lastProblem) onError(asError(error));
        lastProblem = problem;
        continue;
      }
      if (sameRun(run, nginxSandbox) || restarting || stopping.signal.aborted) continue;
      onError(new Error(`the edge sandbox ${edge.name} ${run ? 'runs again in a new network namespace' : 'is not running'}; starting nginx in its new run`));
      const old = nginx;
      restarting = (async () => {
        // Its connections died with the namespace: nothing to drain.
        await old?.stop(500);
        await restartNginx(0);
      })().finally(() => (restarting = null));
    }
  })();

  return {
    generation: () => servedGeneration,
    /** Stops nginx; an edge sandbox stays, for the router's next start on this node to adopt (ADR 0020). */
    async stop() {
      stopping.abort();
      await loop;
      await sandboxWatch;
      await restarting;
      await nginx?.stop();
    },
  };
}
