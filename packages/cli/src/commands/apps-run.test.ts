import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A controller without the terminal endpoint, as the original Deis is: the upgrade is a 404, `POST /run` works. */
async function controllerWithoutTerminals(requests: string[]): Promise<string> {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.method === 'POST' && request.url === '/v2/apps/my-app/run') {
      response.writeHead(200, { 'content-type': 'application/json', 'deis-api-version': '2.3' });
      response.end(JSON.stringify({ exit_code: 3, output: 'ran the old way\n' }));
      return;
    }
    response.writeHead(404, { 'content-type': 'text/html' });
    response.end('<h1>Not Found</h1>');
  });
  server.on('upgrade', (request, socket) => {
    requests.push(`UPGRADE ${request.url}`);
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 18\r\nConnection: close\r\n\r\n<h1>Not Found</h1>');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

describe('deis run on a terminal', () => {
  it('runs the command by POST /run when the controller has no terminal endpoint, and exits with its code', async () => {
    const requests: string[] = [];
    const controller = await controllerWithoutTerminals(requests);
    const home = mkdtempSync(join(tmpdir(), 'deis-run-fallback-'));
    mkdirSync(join(home, '.deis'));
    writeFileSync(join(home, '.deis', 'client.json'), JSON.stringify({ controller, token: 't0ken', username: 'alice', ssl_verify: true, response_limit: 100 }));
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
    const stderr = new PassThrough();
    let errors = '';
    stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    stdout.resume();

    const code = await runCli(['run', '-a', 'my-app', 'exit 3'], { stdin, stdout, stderr, env: { HOME: home }, cwd: home });

    expect(requests).toEqual(['UPGRADE /v2/apps/my-app/run/attach', 'POST /v2/apps/my-app/run']);
    expect(code).toBe(3);
    expect(errors).toContain('ran the old way');
  });
});
