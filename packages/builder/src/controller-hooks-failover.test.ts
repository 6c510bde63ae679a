import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerHooks } from './controller-hooks.ts';

const KEY = 'builder-key-0123456789';
const REQUEST = { receive_user: 'alice', receive_repo: 'myapp', image: 'myapp:git-1', sha: '1', procfile: {}, dockerfile: 'true' };

/** ControllerHooks given several controllers (DEIS_CONTROLLER_URL with commas, ADR 0021). */
describe('ControllerHooks failing over between controllers', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });

  /** A controller; `answer` sees each request with its body parsed. */
  async function controller(answer: (req: IncomingMessage, body: Record<string, unknown>, res: ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => answer(req, text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('sends a build hook cut off before its outcome to the next controller, with the same request id', async () => {
    const ids: unknown[] = [];
    const dying = await controller((req, body, res) => {
      if (req.url === '/v2/hooks/app/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"uuid":"dying"}');
      ids.push(body.request_id);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      // The controller dies while the release deploys: the answer ends without an outcome.
      res.write('{"output":"migrating\\n"}\n', () => res.socket?.destroy());
    });
    const living = await controller((req, body, res) => {
      if (req.url === '/v2/hooks/app/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"uuid":"u"}');
      ids.push(body.request_id);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"status":200,"body":{"release":{"version":3}}}\n');
    });
    const hooks = new ControllerHooks(`${dying}, ${living}`, KEY);
    const output: string[] = [];
    expect(await hooks.build(REQUEST, (text) => output.push(text))).toEqual({ release: { version: 3 } });
    expect(ids).toHaveLength(2);
    expect(typeof ids[0]).toBe('string');
    expect(ids[1]).toBe(ids[0]);
    expect(output).toEqual(['migrating\n']);
    // The next call goes to the one that answered first.
    expect(await hooks.app('alice', 'myapp').catch(() => 'refused')).toEqual({ uuid: 'u' });
  });

  it('goes on to the next controller when one refuses connections, and not when one answers an error', async () => {
    const gone = await controller(() => undefined);
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    let asked = 0;
    const answering = await controller((_req, _body, res) => {
      asked++;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"detail":"You do not have permission to perform this action."}');
    });
    const other = await controller((_req, _body, res) => res.end('{"uuid":"never"}'));
    const hooks = new ControllerHooks(`${gone},${answering},${other}`, KEY);
    await expect(hooks.app('alice', 'myapp')).rejects.toMatchObject({ status: 403 });
    expect(asked).toBe(1);
  });
});
