import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '@deis/sdk/client';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerHooks } from './controller-hooks.ts';

const KEY = 'builder-key-0123456789';
const REQUEST = { receive_user: 'alice', receive_repo: 'myapp', image: 'myapp:git-1', sha: '1', procfile: {}, dockerfile: 'true' };

describe('ControllerHooks.build: the streamed answer of the build hook', () => {
  let server: Server | undefined;
  afterEach(async () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A controller whose build hook answers with `answer`; resolves to the hooks client and what the hook was sent. */
  async function controller(answer: (res: ServerResponse) => Promise<void> | void): Promise<{ hooks: ControllerHooks; seen: { accept?: string; key?: string } }> {
    const seen: { accept?: string; key?: string } = {};
    server = createServer((req, res) => {
      seen.accept = req.headers.accept;
      seen.key = String(req.headers['x-deis-builder-auth']);
      req.resume();
      req.on('end', () => void answer(res));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { hooks: new ControllerHooks(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`, KEY), seen };
  }

  it('hands over the output as it comes, lines split across chunks, then answers the outcome', async () => {
    const chunks: string[] = [];
    let heardFirst!: () => void;
    const first = new Promise<void>((resolve) => (heardFirst = resolve));
    const { hooks, seen } = await controller(async (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"output":"migr');
      res.write('ating\\n"}\n{"warn');
      // The next lines wait until the client has handed over the first: it streams rather than waiting for the end.
      await first;
      res.write('ing":"not ready yet"}\n{"output":"done\\n"}\n');
      res.end('{"status":200,"body":{"release":{"version":4}}}');
    });
    const warnings: string[] = [];
    const answer = await hooks.build(REQUEST, (text) => {
      chunks.push(text);
      heardFirst();
    }, (text) => warnings.push(text));
    expect(answer).toEqual({ release: { version: 4 } });
    expect(chunks).toEqual(['migrating\n', 'done\n']);
    expect(warnings).toEqual(['not ready yet']);
    expect(seen).toEqual({ accept: 'application/x-ndjson, application/json', key: KEY });
  });

  it('rejects with the ApiError of a failed outcome', async () => {
    const { hooks } = await controller((res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"output":"boom\\n"}\n{"status":400,"body":{"detail":"release phase failed: exit 1"}}\n');
    });
    const error = await hooks.build(REQUEST, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, message: 'release phase failed: exit 1' });
  });

  it('takes a plain answer too: a refusal, or a controller that does not stream, with its Warning header', async () => {
    const plain = await controller((res) => {
      res.writeHead(200, { 'content-type': 'application/json', warning: '199 deis "v3 is current"' });
      res.end('{"release":{"version":3}}');
    });
    const warnings: string[] = [];
    expect(await plain.hooks.build(REQUEST, () => undefined, (text) => warnings.push(text))).toEqual({ release: { version: 3 } });
    expect(warnings).toEqual(['v3 is current']);
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const refused = await controller((res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('"No App matches the given query."');
    });
    await expect(refused.hooks.build(REQUEST, () => undefined)).rejects.toMatchObject({ status: 404, message: 'No App matches the given query.' });
  });

  it('fails when the stream ends without an outcome (the controller went away mid-deploy)', async () => {
    const { hooks } = await controller((res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"output":"half"}\n');
    });
    await expect(hooks.build(REQUEST, () => undefined)).rejects.toThrow('without an outcome');
  });
});
