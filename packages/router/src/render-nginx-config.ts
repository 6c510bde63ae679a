/**
 * Turns the controller's routing table into nginx's configuration: one `server` per app (and per certificate the app's
 * host names use), the controller at `deis.<domain>`, the builder at `deis-builder.<domain>`, and a default server that
 * answers 404 to every other host (contract §6.7). Pure: it returns the text, the certificate files to write, each
 * app's container addresses, and the problems it stepped around. Anything a user chose (host names, whitelist
 * entries, certificates, app names) is checked before it reaches the configuration, so no value can add a directive
 * of its own.
 *
 * The configuration does not depend on which containers serve an app, nor on the table's generation: those reach
 * nginx as peers, without a reload (ADR 0009), so a deploy or a scale renders the same text as before and the router
 * leaves nginx alone.
 * @module
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { AppRoute, RouteCertificate, RouteUpstream, RoutingTable } from '@deis/sdk/types';
import { APP_BALANCER_LUA, PEER_ZONE } from './app-balancer-lua.ts';

export interface NginxPaths {
  pidFile: string;
  errorLog: string;
  /** nginx's temporary files (request bodies, buffered responses) go in subfolders of it. */
  tempDir: string;
  /** Where the apps' certificates are written. */
  certDir: string;
  /** The unix socket the router writes the apps' peers to; nothing else can reach it. */
  adminSocket: string;
}

/** Where Debian's libnginx-mod-http-lua puts its modules. */
export const DEFAULT_NGINX_MODULE_DIR = '/usr/lib/nginx/modules';

export interface RenderOptions {
  httpPort: number;
  httpsPort: number;
  /** Listen on this address only; absent: every IPv4 address. */
  listenAddress?: string;
  paths: NginxPaths;
  /** Serves HTTPS for every host name without a certificate of its own (the platform's names, unknown hosts). */
  defaultCertificate: { certificatePath: string; keyPath: string };
  workerProcesses?: number | 'auto';
  /**
   * Seconds nginx waits to connect to a container before trying the next; default 30 (Deis's). On one host a gone
   * container refuses at once; on a cluster a dead node's containers do not answer at all, so a few seconds keep the
   * requests that meet them short.
   */
  connectTimeoutSeconds?: number;
  /** Certificates (by `certificateDigest`) nginx would not load; left out, their names served with the default one. */
  refusedCertificates?: ReadonlySet<string>;
  /** Served in the revision header, so the router can tell when nginx has loaded this configuration. */
  revision?: number;
  /** Holds ndk_http_module.so and ngx_http_lua_module.so. */
  moduleDir?: string;
}

export interface NginxFile {
  path: string;
  content: string;
  mode: number;
}

export interface RenderedNginxConfig {
  config: string;
  /** Certificates and keys the configuration refers to; written before nginx reads it. */
  files: NginxFile[];
  /** The container addresses (`host:port`, IPv6 in brackets) of every app the configuration routes to its containers. */
  peers: Map<string, string[]>;
  /** What was left out and why, for the operator; the rest of the table is served all the same. */
  problems: string[];
}

/** The default server's `/healthz` answers with the generation of the peers it serves and the revision of its configuration. */
export const GENERATION_HEADER = 'X-Deis-Router-Generation';
export const REVISION_HEADER = 'X-Deis-Router-Revision';

/** The page a maintenance-mode app answers with (contract §6.7: 503 with `<title>Site Maintenance</title>`). */
export const MAINTENANCE_PAGE =
  '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Site Maintenance</title></head>' +
  '<body><h1>Down for maintenance</h1><p>This app is undergoing maintenance. Please check back soon.</p></body></html>';

const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/;
const APP_NAME = /^[a-z0-9]([a-z0-9-]{0,62})$/;
const UPSTREAM_HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;
/** Every app's server sends to this one upstream; its balancer picks the app's container (app-balancer-lua.ts). */
const APPS_UPSTREAM = 'deis-apps';

/**
 * nginx must drop an idle upstream connection before the server at the other end does, or it may send a request on a
 * connection being closed, which a POST does not survive. The controller and builder are Node (5 s idle timeout);
 * apps may be anything, and many servers keep idle connections for only a few seconds.
 */
const PLATFORM_KEEPALIVE_SECONDS = 4;
const APP_KEEPALIVE_SECONDS = 1;

function validHostName(name: string): boolean {
  return name.length <= 253 && HOST_NAME.test(name);
}

/** An address or CIDR nginx's `allow` accepts; anything else is left out. */
export function validWhitelistEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The balancer connects to addresses only: it cannot resolve a name at request time. */
function peerAddress(upstream: RouteUpstream): string | null {
  return isIP(upstream.host) === 0 ? null : upstreamAddress(upstream);
}

function upstreamAddress(upstream: RouteUpstream): string | null {
  if (!Number.isInteger(upstream.port) || upstream.port < 1 || upstream.port > 65535) return null;
  const family = isIP(upstream.host);
  if (family === 6) return `[${upstream.host}]:${upstream.port}`;
  if (family === 4 || UPSTREAM_HOST_NAME.test(upstream.host)) return `${upstream.host}:${upstream.port}`;
  return null;
}

function listenAddress(options: RenderOptions, port: number): string {
  if (!options.listenAddress) return String(port);
  return isIP(options.listenAddress) === 6 ? `[${options.listenAddress}]:${port}` : `${options.listenAddress}:${port}`;
}

/** Names a certificate's files, and says which certificate nginx refused. */
export function certificateDigest(certificate: RouteCertificate): string {
  return createHash('sha256').update(certificate.certificate).update('\0').update(certificate.key).digest('hex').slice(0, 32);
}

/** The digests of the certificates nginx's error output names (as `"<certDir>/<digest>.crt"` or `.key`). */
export function refusedCertificateDigests(nginxOutput: string, certDir: string): string[] {
  const escaped = certDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`"${escaped}/([0-9a-f]{32})\\.(?:crt|key)"`, 'g');
  return [...new Set([...nginxOutput.matchAll(pattern)].map((match) => match[1] ?? ''))];
}

/** A certificate nginx will load: both parts parse and belong together. */
function certificateProblem(certificate: RouteCertificate): string | null {
  try {
    const parsed = new X509Certificate(certificate.certificate);
    if (!parsed.checkPrivateKey(createPrivateKey(certificate.key))) return 'its key does not match it';
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function indent(lines: string[], depth: number): string {
  const pad = '    '.repeat(depth);
  return lines.map((line) => (line === '' ? '' : `${pad}${line}`)).join('\n');
}

interface ServerBlock {
  names: string[];
  certificate: { certificatePath: string; keyPath: string } | null;
}

class Renderer {
  readonly #options: RenderOptions;
  readonly #files = new Map<string, NginxFile>();
  readonly #problems = new Set<string>();

  constructor(options: RenderOptions) {
    this.#options = options;
  }

  get problems(): string[] {
    return [...this.#problems];
  }

  problem(text: string): void {
    this.#problems.add(text);
  }

  get files(): NginxFile[] {
    return [...this.#files.values()];
  }

  #listens(extra = ''): string[] {
    return [`listen ${listenAddress(this.#options, this.#options.httpPort)}${extra};`, `listen ${listenAddress(this.#options, this.#options.httpsPort)} ssl${extra};`];
  }

  /** Certificate files are named after their content, so a new certificate never overwrites one nginx is serving. */
  #certificateFiles(certificate: RouteCertificate): { certificatePath: string; keyPath: string } {
    const digest = certificateDigest(certificate);
    const certificatePath = `${this.#options.paths.certDir}/${digest}.crt`;
    const keyPath = `${this.#options.paths.certDir}/${digest}.key`;
    this.#files.set(certificatePath, { path: certificatePath, content: certificate.certificate, mode: 0o600 });
    this.#files.set(keyPath, { path: keyPath, content: certificate.key, mode: 0o600 });
    return { certificatePath, keyPath };
  }

  /** Host names grouped by the certificate they are served with: nginx picks the certificate by server (SNI). */
  serverBlocks(route: AppRoute, names: string[]): ServerBlock[] {
    const blocks = new Map<string, ServerBlock>();
    for (const name of names) {
      const certificate = route.certificates[name];
      let files: ServerBlock['certificate'] = null;
      if (certificate) {
        const problem = this.#options.refusedCertificates?.has(certificateDigest(certificate)) ? 'nginx refused it' : certificateProblem(certificate);
        if (problem) this.problem(`app ${route.app}: certificate ${certificate.name} for ${name} left out: ${problem}`);
        else files = this.#certificateFiles(certificate);
      }
      const key = files ? files.certificatePath : '';
      const block = blocks.get(key) ?? { names: [], certificate: files };
      block.names.push(name);
      blocks.set(key, block);
    }
    return [...blocks.values()];
  }

  platformServer(name: string, upstream: string): string {
    return indent(
      [
        'server {',
        ...this.#listens().map((l) => `    ${l}`),
        `    server_name ${name};`,
        // git pushes and the API's own limits: the controller and builder check sizes themselves.
        '    client_max_body_size 0;',
        '    proxy_request_buffering off;',
        // Build output and log streams reach the user line by line, not a buffer at a time.
        '    proxy_buffering off;',
        '    location / {',
        `        proxy_pass http://${upstream};`,
        '    }',
        '}',
      ],
      1,
    );
  }

  appServer(route: AppRoute, block: ServerBlock): string {
    const lines = ['server {', ...this.#listens().map((l) => `    ${l}`), `    server_name ${block.names.join(' ')};`];
    if (block.certificate) {
      lines.push(`    ssl_certificate ${block.certificate.certificatePath};`, `    ssl_certificate_key ${block.certificate.keyPath};`);
    }
    if (route.httpsEnforced) {
      const port = this.#options.httpsPort === 443 ? '' : `:${this.#options.httpsPort}`;
      lines.push('    if ($scheme = "http") {', `        return 301 https://$host${port}$request_uri;`, '    }');
    }
    lines.push('    location / {');
    if (!route.maintenance) lines.push(`        set $deis_app ${route.app};`);
    if (route.whitelist.length > 0) {
      for (const entry of route.whitelist) {
        if (validWhitelistEntry(entry)) lines.push(`        allow ${entry};`);
        else this.problem(`app ${route.app}: whitelist entry "${entry}" left out: not an address or CIDR`);
      }
      // A whitelist whose every entry was refused still denies everyone: it fails closed.
      lines.push('        deny all;');
    }
    // `return` would run before allow/deny; try_files and access_by_lua run after them, so a refused client sees 403
    // whatever the state.
    if (route.maintenance) lines.push('        try_files /.deis-router-no-such-file @maintenance;');
    else lines.push('        access_by_lua_block { deis_router.check() }', `        proxy_pass http://${APPS_UPSTREAM};`);
    lines.push('    }');
    if (route.maintenance) {
      lines.push('    location @maintenance {', '        default_type text/html;', `        return 503 '${MAINTENANCE_PAGE}';`, '    }');
    }
    lines.push('}');
    return indent(lines, 1);
  }
}

function upstreamBlock(name: string, servers: string[], keepaliveSeconds: number): string {
  return indent([`upstream ${name} {`, ...servers.map((s) => `    server ${s};`), '    keepalive 32;', `    keepalive_timeout ${keepaliveSeconds}s;`, '}'], 1);
}

/** The body the router writes to nginx's `/peers`: the generation, then a line per app with its addresses. */
export function peersBody(generation: number, peers: Map<string, string[]>): string {
  return [`generation ${generation}`, ...[...peers].map(([app, addresses]) => [app, ...addresses].join(' '))].join('\n') + '\n';
}

/** Renders the whole configuration for one routing table. */
export function renderNginxConfig(table: RoutingTable, options: RenderOptions): RenderedNginxConfig {
  const renderer = new Renderer(options);
  const { paths } = options;
  const platformDomain = table.platformDomain.toLowerCase();
  const controllerName = `deis.${platformDomain}`;
  const builderName = `deis-builder.${platformDomain}`;
  const taken = new Set<string>([controllerName, builderName]);

  const upstreams: string[] = [];
  const servers: string[] = [];
  const peers = new Map<string, string[]>();

  const controllerAddress = upstreamAddress(table.controller);
  if (controllerAddress && validHostName(controllerName)) {
    upstreams.push(upstreamBlock('deis-controller', [controllerAddress], PLATFORM_KEEPALIVE_SECONDS));
    servers.push(renderer.platformServer(controllerName, 'deis-controller'));
  } else {
    renderer.problem(`the controller route left out: bad host name ${controllerName} or address ${table.controller.host}:${table.controller.port}`);
  }
  if (table.builder) {
    const builderAddress = upstreamAddress(table.builder);
    if (builderAddress && validHostName(builderName)) {
      upstreams.push(upstreamBlock('deis-builder', [builderAddress], PLATFORM_KEEPALIVE_SECONDS));
      servers.push(renderer.platformServer(builderName, 'deis-builder'));
    } else {
      renderer.problem(`the builder route left out: bad address ${table.builder.host}:${table.builder.port}`);
    }
  }

  const routes = [...table.apps].sort((a, b) => a.app.localeCompare(b.app));
  for (const route of routes) {
    if (!APP_NAME.test(route.app)) {
      renderer.problem(`app "${route.app}" left out: not a valid app name`);
      continue;
    }
    const names: string[] = [];
    for (const raw of route.domains) {
      const name = raw.toLowerCase();
      if (!validHostName(name)) renderer.problem(`app ${route.app}: host name "${raw}" left out: not a valid host name`);
      else if (taken.has(name)) renderer.problem(`app ${route.app}: host name ${name} left out: already routed elsewhere`);
      else {
        taken.add(name);
        names.push(name);
      }
    }
    if (names.length === 0) continue;

    const addresses = [...new Set(route.upstreams.map(peerAddress).filter((a): a is string => a !== null))];
    if (addresses.length < route.upstreams.length) renderer.problem(`app ${route.app}: an upstream with a bad address left out`);
    // No entry, or an empty one, answers 503: no container is ready.
    if (!route.maintenance) peers.set(route.app, addresses);
    for (const block of renderer.serverBlocks(route, names)) servers.push(renderer.appServer(route, block));
  }

  const temp = (name: string) => `${paths.tempDir}/${name}`;
  const moduleDir = options.moduleDir ?? DEFAULT_NGINX_MODULE_DIR;
  const config = [
    '# Rendered by the deis router; rewritten when routes, certificates or app settings change, not on deploys.',
    `load_module ${moduleDir}/ndk_http_module.so;`,
    `load_module ${moduleDir}/ngx_http_lua_module.so;`,
    `worker_processes ${options.workerProcesses ?? 'auto'};`,
    `pid ${paths.pidFile};`,
    `error_log ${paths.errorLog} warn;`,
    'worker_rlimit_nofile 16384;',
    // Long-lived connections (websockets, log streams) keep old workers alive after a reload; this bounds that.
    'worker_shutdown_timeout 60s;',
    '',
    'events {',
    '    worker_connections 4096;',
    '}',
    '',
    'http {',
    `    client_body_temp_path ${temp('client_body')};`,
    `    proxy_temp_path ${temp('proxy')};`,
    `    fastcgi_temp_path ${temp('fastcgi')};`,
    `    uwsgi_temp_path ${temp('uwsgi')};`,
    `    scgi_temp_path ${temp('scgi')};`,
    '    access_log off;',
    '    server_tokens off;',
    '    default_type application/octet-stream;',
    '    tcp_nodelay on;',
    '    keepalive_timeout 65s;',
    '    keepalive_requests 10000;',
    '    server_names_hash_max_size 4096;',
    '    server_names_hash_bucket_size 512;',
    '    large_client_header_buffers 4 32k;',
    // Request bodies up to the limit stay in memory: no temporary file, which an unprivileged worker may not be able to write.
    '    client_max_body_size 1m;',
    '    client_body_buffer_size 1m;',
    '',
    `    ssl_certificate ${options.defaultCertificate.certificatePath};`,
    `    ssl_certificate_key ${options.defaultCertificate.keyPath};`,
    '    ssl_protocols TLSv1.2 TLSv1.3;',
    '    ssl_session_cache shared:SSL:10m;',
    '    ssl_session_timeout 10m;',
    '',
    '    map $http_upgrade $connection_upgrade {',
    '        default upgrade;',
    "        '' '';",
    '    }',
    '    map $http_x_request_id $deis_request_id {',
    '        default $http_x_request_id;',
    "        '' $request_id;",
    '    }',
    '    proxy_http_version 1.1;',
    '    proxy_set_header Host $host;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Forwarded-Proto $scheme;',
    '    proxy_set_header X-Forwarded-Port $server_port;',
    '    proxy_set_header X-Request-Id $deis_request_id;',
    '    proxy_set_header Upgrade $http_upgrade;',
    // Empty unless upgrading, which lets nginx keep upstream connections alive.
    '    proxy_set_header Connection $connection_upgrade;',
    `    proxy_connect_timeout ${options.connectTimeoutSeconds ?? 30}s;`,
    '    proxy_send_timeout 1200s;',
    '    proxy_read_timeout 1200s;',
    '    proxy_next_upstream error timeout;',
    '    proxy_next_upstream_tries 3;',
    '    proxy_redirect off;',
    '    proxy_buffer_size 16k;',
    '    proxy_buffers 8 16k;',
    '    proxy_max_temp_file_size 0;',
    '',
    `    lua_shared_dict ${PEER_ZONE} 16m;`,
    `    init_by_lua_block { deis_router = (function() ${APP_BALANCER_LUA} end)() }`,
    // Workers forked from one master share its random state; each should start its round robin somewhere else.
    '    init_worker_by_lua_block { math.randomseed(ngx.worker.pid()) }',
    `    upstream ${APPS_UPSTREAM} {`,
    // A placeholder nginx requires; the balancer sets the real peer for each request.
    '        server 0.0.0.1:1;',
    '        balancer_by_lua_block { deis_router.balance() }',
    '        keepalive 256;',
    `        keepalive_timeout ${APP_KEEPALIVE_SECONDS}s;`,
    '    }',
    '',
    ...upstreams.flatMap((u) => [u, '']),
    '    server {',
    `        listen unix:${paths.adminSocket};`,
    '        client_max_body_size 16m;',
    '        client_body_buffer_size 16m;',
    '        location = /peers {',
    '            content_by_lua_block { deis_router.update() }',
    '        }',
    // The revision check of a router whose nginx runs in another network namespace (ADR 0020), which cannot reach
    // nginx's ports but shares its files.
    '        location = /healthz {',
    `            content_by_lua_block { deis_router.health("${options.revision ?? 0}", "${GENERATION_HEADER}", "${REVISION_HEADER}") }`,
    '        }',
    '    }',
    '',
    '    server {',
    // `deferred`: a connection reaches nginx only with its first bytes, so a worker retiring on a reload never holds
    // a fresh connection that has sent nothing yet (nginx closes those as idle, and the client sees a reset).
    ...indent([`listen ${listenAddress(options, options.httpPort)} default_server deferred;`, `listen ${listenAddress(options, options.httpsPort)} ssl default_server deferred;`, 'server_name _;'], 2).split('\n'),
    '        location = /healthz {',
    `            content_by_lua_block { deis_router.health("${options.revision ?? 0}", "${GENERATION_HEADER}", "${REVISION_HEADER}") }`,
    '        }',
    '        location / {',
    '            return 404;',
    '        }',
    '    }',
    ...servers.flatMap((s) => ['', s]),
    '}',
    '',
  ].join('\n');

  return { config, files: renderer.files, peers, problems: renderer.problems };
}
