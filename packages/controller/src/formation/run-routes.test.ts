import type { ServerMessage } from '@deis/sdk/run-protocol';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket as WebSocketClient } from 'ws';
import type { WebSocket } from 'ws';
import { DEFAULT_LIMITS } from '../settings.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { whenAppIdle } from './formation-state.ts';
import { RUN_MODE_LABEL } from './interactive-run.ts';
import { removeOrphanRuns } from './run-routes.ts';

const ATTACH = '/v2/apps/demo/run/attach';

interface Session {
  socket: WebSocket;
  messages: ServerMessage[];
  /** Everything the terminal printed so far. */
  screen(): string;
  closed: Promise<{ code: number; reason: string }>;
  type(text: string): void;
}

describe('interactive and detached one-off runs', () => {
  let controller: TestController;
  let alice: string;
  beforeEach(async () => {
    controller = await startTestController();
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    await controller.app.ready();
  });
  afterEach(async () => controller.close());

  const pushBuild = async () => {
    const response = await controller.call('POST', '/v2/apps/demo/builds/', { token: alice, body: { image: 'example/app:1', procfile: { web: 'serve' } } });
    expect(response.status, response.body).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
  };
  const runContainers = async () => (await controller.scheduler.list({ 'io.deis.app': 'demo', 'io.deis.type': 'run' })).map((c) => c.name);

  /** Over `injectWS`, or with `url` over a real connection (only there does a dropped connection look dropped). */
  async function attach(token = alice, url?: string): Promise<Session> {
    const socket = url
      ? await new Promise<WebSocket>((resolve, reject) => {
          const client = new WebSocketClient(`${url.replace(/^http/, 'ws')}${ATTACH}`, { headers: { authorization: `token ${token}` } });
          client.once('open', () => resolve(client));
          client.once('error', reject);
        })
      : await controller.app.injectWS(ATTACH, { headers: { authorization: `token ${token}` } });
    const messages: ServerMessage[] = [];
    const output: Buffer[] = [];
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) output.push(data);
      else messages.push(JSON.parse(data.toString('utf8')) as ServerMessage);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    return { socket, messages, closed, screen: () => Buffer.concat(output).toString('utf8'), type: (text) => socket.send(Buffer.from(text), { binary: true }) };
  }

  const start = (session: Session, command = 'bash', size = { columns: 80, rows: 24 }) =>
    session.socket.send(JSON.stringify({ type: 'start', command, ...size, term: 'xterm-256color' }));

  it('refuses the upgrade as POST /run refuses: no token 401, a stranger 403, an unknown app 404', async () => {
    const bob = await controller.user('bob');
    await expect(controller.app.injectWS(ATTACH)).rejects.toThrow(/401/);
    await expect(controller.app.injectWS(ATTACH, { headers: { authorization: `token ${bob}` } })).rejects.toThrow(/403/);
    await expect(controller.app.injectWS('/v2/apps/nope/run/attach', { headers: { authorization: `token ${alice}` } })).rejects.toThrow(/404/);
    const plain = await controller.call('GET', ATTACH, { token: alice });
    expect(plain.status).toBe(426);
    expect(plain.headers.upgrade).toBe('websocket');
  });

  it('runs a command on a terminal: input, resize, Ctrl-C, and the exit code, then removes the container', async () => {
    await pushBuild();
    const configured = await controller.call('POST', '/v2/apps/demo/config/', { token: alice, body: { values: { GREETING: 'hi' }, memory: { run: '64M' } } });
    expect(configured.status, configured.body).toBe(201);
    await whenAppIdle(controller.deps, 'demo');
    const session = await attach();
    start(session, 'bash', { columns: 80, rows: 24 });
    // Typed before the container runs: kept for it.
    session.type('echo typed ahead\r');
    await eventually(() => session.messages, (m) => m.some((message) => message.type === 'started'));
    const started = session.messages.find((message) => message.type === 'started');
    expect(started).toMatchObject({ name: expect.stringMatching(/^demo-run-[a-z0-9]{5}$/) });
    const name = (started as { name: string }).name;
    expect(await runContainers()).toEqual([name]);
    const spec = controller.scheduler.specs().find((s) => s.name === name)!;
    expect(spec.env.TERM).toBe('xterm-256color');
    expect(spec.labels[RUN_MODE_LABEL]).toBe('interactive');
    expect(spec.command).toEqual(['bash']);
    // The release's config and the limits set for the type `run`.
    expect(spec.env.GREETING).toBe('hi');
    expect(spec.memoryBytes).toBe(64 * 1024 * 1024);
    expect(spec.labels['io.deis.release']).toBe('v3');
    expect((await controller.call('GET', '/v2/apps/demo/pods/', { token: alice })).json).toMatchObject({ count: 1 });

    await eventually(() => session.screen(), (screen) => screen.includes('typed ahead\r\n'));
    session.type('echo hello\r');
    await eventually(() => session.screen(), (screen) => screen.includes('hello\r\n'));
    session.type('stty size\r');
    await eventually(() => session.screen(), (screen) => screen.includes('24 80\r\n'));
    session.socket.send(JSON.stringify({ type: 'resize', columns: 132, rows: 43 }));
    session.type('stty size\r');
    await eventually(() => session.screen(), (screen) => screen.includes('43 132\r\n'));
    session.type('\x03');
    await eventually(() => session.screen(), (screen) => screen.includes('^C'));
    session.type('exit 3\r');
    expect(await session.closed).toEqual({ code: 1000, reason: 'exited' });
    expect(session.messages.at(-1)).toEqual({ type: 'exit', code: 3 });
    expect(await runContainers()).toEqual([]);
    const logs = await controller.call('GET', '/v2/apps/demo/logs', { token: alice });
    expect(logs.body).toContain(`alice on ${name} runs 'bash'`);
  });

  it('kills and removes the container when the connection drops, and frees the run slot', async () => {
    await controller.close();
    controller = await startTestController({ limits: { ...DEFAULT_LIMITS, runsPerApp: 1 } });
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    await pushBuild();
    const url = await controller.app.listen({ host: '127.0.0.1', port: 0 });
    const first = await attach(alice, url);
    start(first);
    await eventually(() => first.messages, (m) => m.some((message) => message.type === 'started'));
    expect(await runContainers()).toHaveLength(1);

    const second = await attach(alice, url);
    start(second);
    const refused = await second.closed;
    expect(refused.code).toBe(4429);
    expect(second.messages).toEqual([{ type: 'error', status: 429, detail: expect.stringContaining('DEIS_LIMIT_RUNS_PER_APP') }]);

    first.socket.terminate();
    await eventually(runContainers, (names) => names.length === 0);
    const third = await attach(alice, url);
    start(third);
    await eventually(() => third.messages, (m) => m.some((message) => message.type === 'started'));
    third.socket.close();
    await eventually(runContainers, (names) => names.length === 0);
  });

  it('answers a bad start as the API would: 400 with the reason, and no container', async () => {
    const noBuild = await attach();
    start(noBuild, 'ls');
    expect((await noBuild.closed).code).toBe(4400);
    expect(noBuild.messages).toEqual([{ type: 'error', status: 400, detail: 'No build associated with this release to run this command' }]);

    await pushBuild();
    for (const [first, detail] of [
      [JSON.stringify({ type: 'start', command: ' ', columns: 80, rows: 24 }), 'command is a required field'],
      [JSON.stringify({ type: 'start', command: 'ls', columns: 0, rows: 24 }), 'columns must be a whole number from 1 to 10000'],
      ['not json', 'the first message must be a JSON start message'],
    ] as const) {
      const session = await attach();
      session.socket.send(first);
      expect((await session.closed).code).toBe(4400);
      expect(session.messages).toEqual([{ type: 'error', status: 400, detail }]);
    }
    controller.scheduler.failNext('run');
    const unavailable = await attach();
    start(unavailable);
    expect((await unavailable.closed).code).toBe(4503);
    expect(await runContainers()).toEqual([]);
  });

  it('ends open sessions with the controller, removing their containers', async () => {
    await pushBuild();
    const session = await attach();
    start(session);
    await eventually(() => session.messages, (m) => m.some((message) => message.type === 'started'));
    const scheduler = controller.scheduler;
    await controller.app.close();
    expect((await scheduler.list({ 'io.deis.type': 'run' })).map((c) => c.name)).toEqual([]);
  });

  it('starts a detached run at once; its output goes to the app log, and its container goes when it ends', async () => {
    expect((await controller.call('POST', '/v2/apps/demo/run/detached', { token: alice, body: { command: 'migrate' } })).json).toEqual({
      detail: 'No build associated with this release to run this command',
    });
    await pushBuild();
    expect((await controller.call('POST', '/v2/apps/demo/run/detached', { token: alice, body: {} })).status).toBe(400);
    let finish: (() => void) | undefined;
    controller.scheduler.runHandler = async () => {
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      return { exitCode: 0, output: 'migrated 3 tables\npartial' };
    };
    const response = await controller.call('POST', '/v2/apps/demo/run/detached', { token: alice, body: { command: 'migrate' } });
    expect(response.status).toBe(202);
    const { name } = response.json as { name: string };
    expect(name).toMatch(/^demo-run-[a-z0-9]{5}$/);
    await eventually(() => finish, (f) => f !== undefined);
    finish!();
    const suffix = name.slice(-5);
    const logs = await eventually(
      async () => (await controller.call('GET', '/v2/apps/demo/logs', { token: alice })).body,
      (body) => body.includes('exited with code 0'),
    );
    expect(logs).toMatch(new RegExp(`demo\\[run\\.v2\\.${suffix}\\]: migrated 3 tables\\n`));
    expect(logs).toMatch(new RegExp(`demo\\[run\\.v2\\.${suffix}\\]: partial\\n`));
    expect(logs).toContain(`alice on ${name} runs 'migrate' (detached)`);
    expect((await controller.call('GET', '/v2/apps/demo/pods/', { token: alice })).json).toMatchObject({ count: 1 });
  });

  it('keeps detached output per app, not per name: a new app of the same name sees none of it', async () => {
    await pushBuild();
    controller.scheduler.runHandler = () => ({ exitCode: 0, output: 'secret-ish output\n' });
    expect((await controller.call('POST', '/v2/apps/demo/run/detached', { token: alice, body: { command: 'x' } })).status).toBe(202);
    await eventually(async () => (await controller.call('GET', '/v2/apps/demo/logs', { token: alice })).body, (body) => body.includes('secret-ish output'));
    expect((await controller.call('DELETE', '/v2/apps/demo/', { token: alice })).status).toBe(204);
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    expect((await controller.call('GET', '/v2/apps/demo/logs', { token: alice })).body).not.toContain('secret-ish output');
  });

  it('removes one-off containers a previous controller left behind', async () => {
    await controller.scheduler.start({ name: 'demo-run-abcde', image: 'example/app:1', env: {}, labels: { 'io.deis.platform': 'test', 'io.deis.app': 'demo', 'io.deis.type': 'run' } });
    await controller.scheduler.start({ name: 'demo-web-1-abcde', image: 'example/app:1', env: {}, labels: { 'io.deis.platform': 'test', 'io.deis.app': 'demo', 'io.deis.type': 'web' } });
    expect(await removeOrphanRuns(controller.deps)).toEqual(['demo-run-abcde']);
    expect((await controller.scheduler.list({ 'io.deis.app': 'demo' })).map((c) => c.name)).toEqual(['demo-web-1-abcde']);
  });
});
