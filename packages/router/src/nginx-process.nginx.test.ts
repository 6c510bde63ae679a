import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NginxError, NginxProcess, testNginxConfig } from './nginx-process.ts';

let dir: string;
let port: number;
let running: NginxProcess | null;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
}

/** A configuration that answers every request with `body`. */
function config(body: string, listenPort = port): string {
  return `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nworker_processes 2;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/tmp;\n  proxy_temp_path ${dir}/tmp;\n  fastcgi_temp_path ${dir}/tmp;\n  uwsgi_temp_path ${dir}/tmp;\n  scgi_temp_path ${dir}/tmp;\n  server { listen 127.0.0.1:${listenPort}; location / { return 200 '${body}'; } }\n}\n`;
}

function fetchBody(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}

const location = () => ({ prefix: dir, configPath: join(dir, 'nginx.conf') });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-process-test-'));
  mkdirSync(join(dir, 'tmp'));
  port = await freePort();
  running = null;
});
afterEach(async () => {
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('testNginxConfig', () => {
  it('passes a good configuration and rejects a bad one with what nginx said', async () => {
    writeFileSync(join(dir, 'nginx.conf'), config('one'));
    await expect(testNginxConfig(location())).resolves.toBeUndefined();
    writeFileSync(join(dir, 'nginx.conf'), `${config('one')}\nnonsense_directive on;\n`);
    const error: unknown = await testNginxConfig(location()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NginxError);
    expect((error as NginxError).output).toContain('unknown directive "nonsense_directive"');
  });
});

describe('NginxProcess', () => {
  it('starts, serves, reloads to a new configuration, and stops', async () => {
    writeFileSync(join(dir, 'nginx.conf'), config('one'));
    running = await NginxProcess.start({ ...location(), pidFile: join(dir, 'nginx.pid') });
    expect(running.running).toBe(true);
    expect(Number(readFileSync(join(dir, 'nginx.pid'), 'utf8'))).toBe(running.pid);
    expect(await fetchBody()).toBe('one');
    const before = running.workerPids();
    expect(before).toHaveLength(2);

    writeFileSync(join(dir, 'nginx.conf'), config('two'));
    await running.reload();
    // From the moment reload resolves, every new connection gets the new configuration.
    for (let i = 0; i < 10; i++) expect(await fetchBody()).toBe('two');
    expect(running.workerPids().filter((pid) => !before.includes(pid)).length).toBe(2);

    await running.stop();
    expect(running.running).toBe(false);
    await expect(fetchBody()).rejects.toThrow();
  });

  it('rejects with nginx’s words when it cannot start, e.g. its port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      writeFileSync(join(dir, 'nginx.conf'), config('one'));
      const error: unknown = await NginxProcess.start({ ...location(), pidFile: join(dir, 'nginx.pid') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NginxError);
      expect((error as Error).message).toContain('Address already in use');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('stops an nginx a previous router left running on the same configuration before it starts', async () => {
    writeFileSync(join(dir, 'nginx.conf'), config('left'));
    const leftover = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], { stdio: 'ignore' });
    const leftoverExit = new Promise((resolve) => leftover.once('exit', resolve));
    try {
      const deadline = Date.now() + 5000;
      let answered = '';
      while (answered !== 'left' && Date.now() < deadline) {
        answered = await fetchBody().catch(() => '');
        if (answered !== 'left') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Without a leftover serving its port, start() would have nothing to stop and this test nothing to show.
      expect(answered).toBe('left');
      writeFileSync(join(dir, 'nginx.conf'), config('new'));
      running = await NginxProcess.start({ ...location(), pidFile: join(dir, 'nginx.pid') });
      await leftoverExit;
      expect(await fetchBody()).toBe('new');
    } finally {
      leftover.kill('SIGKILL');
    }
  });

  it('tells when nginx exits without being asked', async () => {
    writeFileSync(join(dir, 'nginx.conf'), config('one'));
    const exits: NginxError[] = [];
    running = await NginxProcess.start({ ...location(), pidFile: join(dir, 'nginx.pid'), onExit: (error) => exits.push(error) });
    process.kill(running.pid ?? 0, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (exits.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(exits[0]?.message).toMatch(/^nginx exited with/);
    expect(running.running).toBe(false);
    await expect(running.reload()).rejects.toThrow('nginx is not running');
  });
});
