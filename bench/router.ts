/**
 * Throughput and tail latency through the router (the nginx configuration it renders, driven by a real controller)
 * against the same upstream reached directly and through a hand-written minimal nginx proxy, in one bounded run.
 * Everything listens on 127.0.0.1. Run: `npx tsx bench/router.ts` (needs nginx, wrk, openssl).
 * @module
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { useUpstreamSource } from '@deis/controller/routing/routing-table';
import { startTestController, TEST_BUILDER_KEY } from '@deis/controller/testing/test-controller';
import { NginxProcess, testNginxConfig } from '@deis/router/nginx-process';
import { startRouter } from '@deis/router/router';

const THREADS = 2;
const CONNECTIONS = 32;
const SECONDS = 5;
const WARM_UP_SECONDS = 1;
const CHANGE_EVERY_MS = 500;

interface Result {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: string;
  requests: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function milliseconds(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** Runs wrk without blocking the event loop: the router's control loop runs in this process. */
async function wrk(name: string, url: string, host: string, seconds = SECONDS, extraHeaders: string[] = []): Promise<Result> {
  const args = [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, ...extraHeaders.flatMap((h) => ['-H', h]), url];
  const output = await new Promise<string>((resolve, reject) => execFile('wrk', args, { encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout))));
  const errors = [/Socket errors:.*/.exec(output)?.[0], /Non-2xx or 3xx responses: \d+/.exec(output)?.[0]].filter(Boolean).join('; ');
  return {
    name,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]),
    p50Ms: milliseconds(/ 50%\s+(\S+)/.exec(output)?.[1]),
    p99Ms: milliseconds(/ 99%\s+(\S+)/.exec(output)?.[1]),
    errors: errors || 'none',
    requests: Number(/(\d+) requests in/.exec(output)?.[1]),
  };
}

/** The upstream runs in a process of its own, so it competes with nginx and wrk the way an app container would. */
async function startUpstream(): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/plain'); s.end('hello world\\n'); }).listen(${port}, '127.0.0.1', () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (exitCode) => reject(new Error(`the upstream exited with ${exitCode}`)));
  });
  return { port, stop: () => child.kill() };
}

function minimalNginxConfig(dir: string, listenPort: number, upstreamPort: number): string {
  return [
    'worker_processes auto;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp;`),
    `  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${listenPort}; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    '}',
    '',
  ].join('\n');
}

function firstLine(command: string, args: string[]): string {
  // nginx -v and wrk -v print to stderr, and wrk -v exits with 1.
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

function statusThrough(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

async function main(): Promise<void> {
  const cpuList = cpus();
  console.log('machine');
  console.log(`  cpu:    ${cpuList.length} x ${cpuList[0]?.model ?? 'unknown'}`);
  console.log(`  memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  console.log(`  kernel: ${release()}`);
  console.log(`  node:   ${process.version}`);
  console.log(`  nginx:  ${firstLine('/usr/sbin/nginx', ['-v'])}`);
  console.log(`  wrk:    ${firstLine('wrk', ['-v'])}`);
  console.log(`  load:   wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, after ${WARM_UP_SECONDS} s of warm-up; everything on 127.0.0.1`);
  console.log('');

  const dir = mkdtempSync(join(tmpdir(), 'deis-bench-router-'));
  const upstream = await startUpstream();
  // A second container for the app during the "deploys": the peers alternate between one and both.
  const second = await startUpstream();
  const controller = await startTestController({ platformDomain: 'bench.test' });
  let router: Awaited<ReturnType<typeof startRouter>> | null = null;
  let minimal: NginxProcess | null = null;
  try {
    // The router, fed by a real controller with one app whose one container is the upstream.
    await controller.user('bench');
    const owner = (await controller.deps.db.selectFrom('users').select('id').where('username', '=', 'bench').executeTakeFirstOrThrow()).id;
    const now = new Date().toISOString();
    const appUuid = randomUUID();
    await controller.deps.db.insertInto('apps').values({ uuid: appUuid, id: 'bench', owner_id: owner, structure: '{}', created: now, updated: now }).execute();
    let peers = [{ host: '127.0.0.1', port: upstream.port }];
    useUpstreamSource(controller.deps, async () => peers);
    await controller.app.listen({ host: '127.0.0.1', port: 0 });
    const controllerPort = (controller.app.server.address() as AddressInfo).port;
    const routerPort = await freePort();
    router = await startRouter({
      controllerUrl: `http://127.0.0.1:${controllerPort}`,
      builderKey: TEST_BUILDER_KEY,
      dataDir: join(dir, 'router'),
      httpPort: routerPort,
      httpsPort: await freePort(),
      listenAddress: '127.0.0.1',
      onError: (error) => console.error(`router: ${error.message}`),
    });

    // The hand-written minimal proxy: what nginx costs with nothing of ours in it.
    const minimalDir = join(dir, 'minimal');
    mkdirSync(join(minimalDir, 'tmp'), { recursive: true });
    const minimalPort = await freePort();
    writeFileSync(join(minimalDir, 'nginx.conf'), minimalNginxConfig(minimalDir, minimalPort, upstream.port));
    await testNginxConfig({ prefix: minimalDir, configPath: join(minimalDir, 'nginx.conf') });
    minimal = await NginxProcess.start({ prefix: minimalDir, configPath: join(minimalDir, 'nginx.conf'), pidFile: join(minimalDir, 'nginx.pid') });

    const targets = [
      { name: 'direct to the upstream', url: `http://127.0.0.1:${upstream.port}/`, host: `127.0.0.1:${upstream.port}` },
      { name: 'minimal nginx proxy', url: `http://127.0.0.1:${minimalPort}/`, host: 'bench.bench.test' },
      { name: 'the router (rendered config)', url: `http://127.0.0.1:${routerPort}/`, host: 'bench.bench.test' },
    ];
    const status = await statusThrough(routerPort, 'bench.bench.test');
    if (status !== 200) throw new Error(`the router answered ${status}, not 200; the bench would measure an error page`);

    const results: Result[] = [];
    for (const target of targets) {
      await wrk(target.name, target.url, target.host, WARM_UP_SECONDS);
      results.push(await wrk(target.name, target.url, target.host));
    }

    console.log(`${'path'.padEnd(30)} ${'req/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  errors`);
    for (const r of results) {
      console.log(`${r.name.padEnd(30)} ${r.requestsPerSecond.toFixed(0).padStart(10)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)}  ${r.errors}`);
    }
    const [direct, bare, ours] = results as [Result, Result, Result];
    console.log('');
    console.log(`router / direct:        ${(ours.requestsPerSecond / direct.requestsPerSecond).toFixed(2)} x throughput, ${(ours.p99Ms / direct.p99Ms).toFixed(2)} x p99`);
    console.log(`router / minimal nginx: ${(ours.requestsPerSecond / bare.requestsPerSecond).toFixed(2)} x throughput, ${(ours.p99Ms / bare.p99Ms).toFixed(2)} x p99`);

    // Failed requests while the routing table changes: its containers, as in deploys (nginx's peers change, no
    // reload), and its host names, as in domains:add (a graceful reload, which resets idle kept-alive connections).
    const changeContainers = async (round: number) => {
      peers = round % 2 === 0 ? [{ host: '127.0.0.1', port: upstream.port }, { host: '127.0.0.1', port: second.port }] : [{ host: '127.0.0.1', port: upstream.port }];
    };
    const changeDomains = async (round: number) => {
      if (round % 2 === 0) {
        const stamp = new Date().toISOString();
        await controller.deps.db.insertInto('domains').values({ uuid: randomUUID(), app_uuid: appUuid, owner_id: owner, domain: 'www.bench.example', cert_id: null, created: stamp, updated: stamp }).execute();
      } else {
        await controller.deps.db.deleteFrom('domains').where('app_uuid', '=', appUuid).execute();
      }
    };
    for (const [what, change] of [['containers (deploys, no reload)', changeContainers], ['host names (a reload each)', changeDomains]] as const) {
      console.log('');
      console.log(`under load while the app's ${what} change every ${CHANGE_EVERY_MS} ms (${SECONDS} s):`);
      for (const [label, headers] of [['kept-alive connections', []], ['a new connection per request', ['Connection: close']]] as const) {
        const running = wrk(label, targets[2]!.url, 'bench.bench.test', SECONDS, [...headers]);
        let changes = 0;
        const deadline = Date.now() + (SECONDS - 1) * 1000;
        while (Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, CHANGE_EVERY_MS));
          await change(changes);
          const generation = controller.deps.routing.changed();
          while (router.generation() < generation) await new Promise((resolve) => setTimeout(resolve, 5));
          changes += 1;
        }
        const r = await running;
        console.log(`  ${label.padEnd(30)} ${changes} changes, ${r.requests} requests, ${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, errors: ${r.errors}`);
      }
    }
  } finally {
    await router?.stop();
    await minimal?.stop();
    await controller.close();
    upstream.stop();
    second.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
