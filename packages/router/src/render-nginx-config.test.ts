import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRoute, RoutingTable } from '@deis/sdk/types';
import { certificateDigest, MAINTENANCE_PAGE, peersBody, refusedCertificateDigests, renderNginxConfig, validWhitelistEntry } from './render-nginx-config.ts';
import type { RenderOptions } from './render-nginx-config.ts';

const options: RenderOptions = {
  httpPort: 8080,
  httpsPort: 8443,
  listenAddress: '127.0.0.1',
  paths: { pidFile: '/data/nginx.pid', errorLog: '/data/logs/error.log', tempDir: '/data/tmp', certDir: '/data/certs', adminSocket: '/data/admin.sock' },
  defaultCertificate: { certificatePath: '/data/default.crt', keyPath: '/data/default.key' },
  revision: 3,
};

function route(app: string, extra: Partial<AppRoute> = {}): AppRoute {
  return { app, domains: [`${app}.example.test`], upstreams: [{ host: '100.64.0.2', port: 5000 }], maintenance: false, whitelist: [], httpsEnforced: false, certificates: {}, ...extra };
}

function table(apps: AppRoute[], extra: Partial<RoutingTable> = {}): RoutingTable {
  return { generation: 42, platformDomain: 'example.test', controller: { host: '127.0.0.1', port: 8000 }, builder: null, apps, ...extra };
}

/** The text of the `server { … }` block whose server_name line names `name`. */
function serverBlock(config: string, name: string): string {
  const blocks = config.split(/\n {4}server \{\n/).slice(1);
  const block = blocks.find((b) => new RegExp(`server_name [^;]*(?<=[ ])${name.replace(/[.*]/g, (c) => `\\${c}`)}[ ;]`).test(b));
  if (!block) throw new Error(`no server for ${name}`);
  return block.slice(0, block.indexOf('\n    }\n') + 6);
}

let certDir: string;
let certificate: { certificate: string; key: string };
let otherKey: string;

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'render-test-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=www.example.com', '-days', '2', '-keyout', join(certDir, 'a.key'), '-out', join(certDir, 'a.crt')], { stdio: 'ignore' });
  execFileSync('openssl', ['genrsa', '-out', join(certDir, 'b.key'), '2048'], { stdio: 'ignore' });
  certificate = { certificate: readFileSync(join(certDir, 'a.crt'), 'utf8'), key: readFileSync(join(certDir, 'a.key'), 'utf8') };
  otherKey = readFileSync(join(certDir, 'b.key'), 'utf8');
});
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

describe('renderNginxConfig', () => {
  it('keeps every path under the data directory, so nginx runs unprivileged, with workers per core', () => {
    const { config } = renderNginxConfig(table([]), options);
    expect(config).toContain('worker_processes auto;');
    expect(config).toContain('pid /data/nginx.pid;');
    expect(config).toContain('error_log /data/logs/error.log warn;');
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) expect(config).toContain(`${temp}_temp_path /data/tmp/${temp};`);
    expect(config).not.toMatch(/\/var\/|\/etc\//);
    expect(renderNginxConfig(table([]), { ...options, workerProcesses: 2 }).config).toContain('worker_processes 2;');
  });

  it("connects to containers within Deis's 30 s, or the time given", () => {
    expect(renderNginxConfig(table([]), options).config).toContain('proxy_connect_timeout 30s;');
    expect(renderNginxConfig(table([]), { ...options, connectTimeoutSeconds: 2 }).config).toContain('proxy_connect_timeout 2s;');
  });

  it('answers unknown hosts with 404 from a default server on both ports, and /healthz with the generation and revision', () => {
    const { config } = renderNginxConfig(table([]), options);
    const defaultServer = serverBlock(config, '_');
    expect(defaultServer).toContain('listen 127.0.0.1:8080 default_server deferred;');
    expect(defaultServer).toContain('listen 127.0.0.1:8443 ssl default_server deferred;');
    expect(defaultServer).toMatch(/location \/ \{\s+return 404;/);
    expect(defaultServer).toContain('deis_router.health("3", "X-Deis-Router-Generation", "X-Deis-Router-Revision")');
  });

  it('loads the lua module, and takes the apps\' peers only on its own unix socket', () => {
    const { config } = renderNginxConfig(table([]), options);
    expect(config).toMatch(/^load_module \/usr\/lib\/nginx\/modules\/ndk_http_module\.so;\nload_module \/usr\/lib\/nginx\/modules\/ngx_http_lua_module\.so;$/m);
    expect(renderNginxConfig(table([]), { ...options, moduleDir: '/opt/mods' }).config).toContain('load_module /opt/mods/ngx_http_lua_module.so;');
    const admin = config.split(/\n {4}server \{\n/).find((block) => block.includes('location = /peers'));
    expect(admin).toMatch(/^\s+listen unix:\/data\/admin\.sock;\n/);
    expect(admin).not.toMatch(/listen [^u]/);
    // The revision a router whose nginx is in another network namespace checks after a reload.
    expect(admin).toContain('deis_router.health("3", "X-Deis-Router-Generation", "X-Deis-Router-Revision")');
  });

  it('renders the same text whatever the generation and the containers, so deploys and scaling need no reload', () => {
    const before = renderNginxConfig(table([route('web')]), options);
    const after = renderNginxConfig(table([route('web', { upstreams: [{ host: '100.64.0.7', port: 5000 }, { host: '100.64.0.8', port: 5000 }] })], { generation: 43 }), options);
    expect(after.config).toBe(before.config);
    expect(after.peers).toEqual(new Map([['web', ['100.64.0.7:5000', '100.64.0.8:5000']]]));
    expect(peersBody(43, after.peers)).toBe('generation 43\nweb 100.64.0.7:5000 100.64.0.8:5000\n');
    // An app going idle is a change of peers too: the 503 comes from an empty entry.
    const idle = renderNginxConfig(table([route('web', { upstreams: [] })]), options);
    expect(idle.config).toBe(before.config);
    expect(idle.peers).toEqual(new Map([['web', []]]));
  });

  it('listens on every address when none is given, and brackets an IPv6 one', () => {
    expect(renderNginxConfig(table([]), { ...options, listenAddress: undefined }).config).toContain('listen 8080 default_server deferred;');
    expect(renderNginxConfig(table([]), { ...options, listenAddress: '::1' }).config).toContain('listen [::1]:8443 ssl default_server deferred;');
  });

  it('routes deis.<domain> to the controller, and deis-builder.<domain> to the builder only when there is one', () => {
    const without = renderNginxConfig(table([]), options).config;
    expect(without).toMatch(/upstream deis-controller \{\n\s+server 127\.0\.0\.1:8000;/);
    expect(serverBlock(without, 'deis.example.test')).toContain('proxy_pass http://deis-controller;');
    expect(without).not.toContain('deis-builder');
    const withBuilder = renderNginxConfig(table([], { builder: { host: '127.0.0.1', port: 8001 } }), options).config;
    const builder = serverBlock(withBuilder, 'deis-builder.example.test');
    expect(builder).toContain('proxy_pass http://deis-builder;');
    // git pushes are large and streamed.
    expect(builder).toContain('client_max_body_size 0;');
    expect(builder).toContain('proxy_request_buffering off;');
    expect(builder).toContain('proxy_buffering off;');
    expect(serverBlock(withBuilder, 'deis.example.test')).toContain('proxy_buffering off;');
  });

  it('gives each app one server with all its host names, wildcards included, and its containers as peers', () => {
    const { config, peers, problems } = renderNginxConfig(
      table([route('web', { domains: ['web.example.test', 'www.example.com', '*.example.org'], upstreams: [{ host: '100.64.0.2', port: 5000 }, { host: '100.64.0.3', port: 5001 }] })]),
      options,
    );
    expect(problems).toEqual([]);
    expect(peers.get('web')).toEqual(['100.64.0.2:5000', '100.64.0.3:5001']);
    expect(config).toMatch(/upstream deis-apps \{\n\s+server 0\.0\.0\.1:1;\n\s+balancer_by_lua_block \{ deis_router\.balance\(\) \}\n\s+keepalive 256;/);
    const server = serverBlock(config, 'www.example.com');
    expect(server).toContain('server_name web.example.test www.example.com *.example.org;');
    expect(server).toContain('listen 127.0.0.1:8080;');
    expect(server).toContain('listen 127.0.0.1:8443 ssl;');
    expect(server).toMatch(/set \$deis_app web;\n\s+access_by_lua_block \{ deis_router\.check\(\) \}\n\s+proxy_pass http:\/\/deis-apps;/);
  });

  it('sends the forwarding and WebSocket headers, keeps upstream connections alive, and retries connect errors', () => {
    const { config } = renderNginxConfig(table([route('web')]), options);
    for (const line of [
      'proxy_set_header Host $host;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_set_header X-Forwarded-Port $server_port;',
      'proxy_set_header Upgrade $http_upgrade;',
      'proxy_set_header Connection $connection_upgrade;',
      'proxy_http_version 1.1;',
      'proxy_next_upstream error timeout;',
    ]) {
      expect(config).toContain(line);
    }
    expect(config).toMatch(/upstream deis-apps \{[\s\S]*?keepalive 256;\n\s+keepalive_timeout 1s;/);
    expect(config).toMatch(/upstream deis-controller \{[^}]*keepalive_timeout 4s;/);
    expect(config).toMatch(/map \$http_upgrade \$connection_upgrade \{\n\s+default upgrade;\n\s+'' '';/);
  });

  it('answers 503 for an app without containers, after the whitelist has had its say', () => {
    const { config, peers } = renderNginxConfig(table([route('idle', { upstreams: [], whitelist: ['10.0.0.1'] })]), options);
    const server = serverBlock(config, 'idle.example.test');
    expect(peers.get('idle')).toEqual([]);
    // access_by_lua runs after allow/deny, whatever their order in the block: a refused client sees 403 first.
    expect(server).toMatch(/allow 10\.0\.0\.1;\n\s+deny all;\n\s+access_by_lua_block \{ deis_router\.check\(\) \}/);
  });

  it('answers 503 with the maintenance page while maintenance is on, containers or not', () => {
    const { config, peers } = renderNginxConfig(table([route('busy', { maintenance: true })]), options);
    const server = serverBlock(config, 'busy.example.test');
    expect(server).not.toContain('proxy_pass');
    expect(peers.has('busy')).toBe(false);
    expect(server).toContain('try_files /.deis-router-no-such-file @maintenance;');
    expect(server).toContain(`return 503 '${MAINTENANCE_PAGE}';`);
    expect(server).toContain('default_type text/html;');
    expect(MAINTENANCE_PAGE).toContain('<title>Site Maintenance</title>');
    expect(MAINTENANCE_PAGE).not.toContain("'");
  });

  it('allows only whitelisted addresses and CIDRs, drops entries that are neither, and fails closed', () => {
    const { config, problems } = renderNginxConfig(table([route('web', { whitelist: ['127.0.0.1', '10.0.0.0/8', '::1', 'all; allow 0.0.0.0/0', '1.2.3.4/33'] })]), options);
    const server = serverBlock(config, 'web.example.test');
    expect(server).toMatch(/allow 127\.0\.0\.1;\n\s+allow 10\.0\.0\.0\/8;\n\s+allow ::1;\n\s+deny all;\n\s+access_by_lua_block \{ deis_router\.check\(\) \}\n\s+proxy_pass/);
    expect(server).not.toContain('0.0.0.0/0');
    expect(problems).toEqual([
      'app web: whitelist entry "all; allow 0.0.0.0/0" left out: not an address or CIDR',
      'app web: whitelist entry "1.2.3.4/33" left out: not an address or CIDR',
    ]);
    const closed = serverBlock(renderNginxConfig(table([route('web', { whitelist: ['nonsense'] })]), options).config, 'web.example.test');
    expect(closed).toMatch(/location \/ \{\n\s+set \$deis_app [a-z]+;\n\s+deny all;\n\s+access_by_lua_block \{ deis_router\.check\(\) \}\n\s+proxy_pass/);
  });

  it('redirects plain HTTP to HTTPS with 301 when the app enforces TLS, naming a non-standard port', () => {
    const server = serverBlock(renderNginxConfig(table([route('web', { httpsEnforced: true })]), options).config, 'web.example.test');
    expect(server).toMatch(/if \(\$scheme = "http"\) \{\n\s+return 301 https:\/\/\$host:8443\$request_uri;/);
    const standard = renderNginxConfig(table([route('web', { httpsEnforced: true })]), { ...options, httpsPort: 443 }).config;
    expect(standard).toContain('return 301 https://$host$request_uri;');
    expect(renderNginxConfig(table([route('web')]), options).config).not.toContain('return 301');
  });

  it('serves an attached certificate by SNI from a server of its own, written to a file named after its content', () => {
    const rendered = renderNginxConfig(
      table([route('web', { domains: ['web.example.test', 'www.example.com'], certificates: { 'www.example.com': { name: 'www', ...certificate } } })]),
      options,
    );
    expect(rendered.problems).toEqual([]);
    const secure = serverBlock(rendered.config, 'www.example.com');
    expect(secure).toContain('server_name www.example.com;');
    const [certificateFile, keyFile] = rendered.files;
    expect(certificateFile?.path).toMatch(/^\/data\/certs\/[0-9a-f]{32}\.crt$/);
    expect(certificateFile?.content).toBe(certificate.certificate);
    expect(keyFile?.content).toBe(certificate.key);
    expect(keyFile?.mode).toBe(0o600);
    expect(secure).toContain(`ssl_certificate ${certificateFile?.path};`);
    expect(secure).toContain(`ssl_certificate_key ${keyFile?.path};`);
    // The app's other names use the default certificate, set for the whole http block.
    const plain = serverBlock(rendered.config, 'web.example.test');
    expect(plain).toContain('server_name web.example.test;');
    expect(plain).not.toContain('ssl_certificate');
    expect(rendered.config).toContain('ssl_certificate /data/default.crt;');
  });

  it('leaves out a certificate that does not parse or whose key does not match, and serves the name without it', () => {
    const rendered = renderNginxConfig(
      table([
        route('web', {
          domains: ['a.example.com', 'b.example.com'],
          certificates: { 'a.example.com': { name: 'broken', certificate: 'garbage', key: certificate.key }, 'b.example.com': { name: 'mismatch', certificate: certificate.certificate, key: otherKey } },
        }),
      ]),
      options,
    );
    expect(rendered.files).toEqual([]);
    expect(rendered.problems).toHaveLength(2);
    expect(rendered.problems[0]).toMatch(/^app web: certificate broken for a\.example\.com left out: ./);
    expect(rendered.problems[1]).toBe('app web: certificate mismatch for b.example.com left out: its key does not match it');
    expect(serverBlock(rendered.config, 'a.example.com')).toContain('server_name a.example.com b.example.com;');
  });

  it('leaves out a certificate nginx refused before, found by the names in nginx’s own error message', () => {
    const pair = { name: 'www', ...certificate };
    const digest = certificateDigest(pair);
    const output = `nginx: [emerg] SSL_CTX_use_certificate("/data/certs/${digest}.crt") failed (SSL: error:0A00018F:SSL routines::ee key too small)`;
    expect(refusedCertificateDigests(output, '/data/certs')).toEqual([digest]);
    expect(refusedCertificateDigests(`cannot load certificate key "/data/certs/${digest}.key": x`, '/data/certs')).toEqual([digest]);
    expect(refusedCertificateDigests(`cannot load certificate "/data/default.crt"`, '/data/certs')).toEqual([]);
    const rendered = renderNginxConfig(table([route('web', { domains: ['www.example.com'], certificates: { 'www.example.com': pair } })]), { ...options, refusedCertificates: new Set([digest]) });
    expect(rendered.files).toEqual([]);
    expect(rendered.problems).toEqual(['app web: certificate www for www.example.com left out: nginx refused it']);
    expect(serverBlock(rendered.config, 'www.example.com')).not.toContain('ssl_certificate');
  });

  it('never lets an app take the platform names or another app’s name, nor put anything but a host name in server_name', () => {
    const { config, problems } = renderNginxConfig(
      table([
        route('alpha', { domains: ['alpha.example.test', 'shared.example.com'] }),
        route('beta', { domains: ['beta.example.test', 'deis.example.test', 'shared.example.com', 'x.com; return 200', '*'] }),
      ]),
      options,
    );
    expect(serverBlock(config, 'deis.example.test')).toContain('proxy_pass http://deis-controller;');
    expect(serverBlock(config, 'beta.example.test')).toContain('server_name beta.example.test;');
    expect(config).not.toContain('return 200;');
    expect(problems).toEqual([
      'app beta: host name deis.example.test left out: already routed elsewhere',
      'app beta: host name shared.example.com left out: already routed elsewhere',
      'app beta: host name "x.com; return 200" left out: not a valid host name',
      'app beta: host name "*" left out: not a valid host name',
    ]);
  });

  it('leaves out apps with invalid names and upstreams with invalid addresses or names the balancer cannot resolve', () => {
    const { config, peers, problems } = renderNginxConfig(
      table([
        route('Bad_Name'),
        route('web', { upstreams: [{ host: '100.64.0.2', port: 5000 }, { host: 'x;y', port: 1 }, { host: '100.64.0.3', port: 70000 }, { host: 'fd00::2', port: 5000 }, { host: 'web-1.local', port: 5000 }] }),
      ]),
      options,
    );
    expect(config).not.toContain('Bad_Name');
    expect([...peers.keys()]).toEqual(['web']);
    expect(peers.get('web')).toEqual(['100.64.0.2:5000', '[fd00::2]:5000']);
    expect(problems).toEqual(['app "Bad_Name" left out: not a valid app name', 'app web: an upstream with a bad address left out']);
  });

  it('renders the same text for the same table, whatever the order of apps', () => {
    const a = renderNginxConfig(table([route('one'), route('two')]), options).config;
    const b = renderNginxConfig(table([route('two'), route('one')]), options).config;
    expect(a).toBe(b);
  });
});

describe('validWhitelistEntry', () => {
  it('accepts IPv4 and IPv6 addresses and CIDRs, nothing else', () => {
    for (const ok of ['1.2.3.4', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/128']) expect(validWhitelistEntry(ok)).toBe(true);
    for (const bad of ['', 'all', 'localhost', '1.2.3.4/', '1.2.3.4/33', '::/129', '1.2.3.4/8/8', '1.2.3.4;', '1.2.3.4 deny']) expect(validWhitelistEntry(bad)).toBe(false);
  });
});
