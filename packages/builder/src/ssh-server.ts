/**
 * The SSH side of `git push`: public-key authentication through the controller's key hook, then only
 * `git-receive-pack` / `git-upload-pack` of an app the user may use, one push per app at a time.
 * @module
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
// ssh2 is CommonJS: Node's ESM loader (the bundled daemon) sees only its default export.
import ssh2 from 'ssh2';
import type { Connection, PublicKeyAuthContext, ServerChannel } from 'ssh2';
import { ApiError } from '@deis/sdk/client';
import type { ControllerHooks } from './controller-hooks.ts';
import { md5Fingerprint } from './fingerprint.ts';
import { gitProcessEnv } from './git-environment.ts';
import { GitCommandError, parseGitCommand } from './git-command.ts';
import { errPktLine } from './pkt-line.ts';
import { PUSH_ONGOING } from './push-lock.ts';
import { PushSizeCounter } from './push-size-limit.ts';
import type { PushSessions } from './push-sessions.ts';

export interface SshServerOptions {
  hostKey: Buffer;
  port: number;
  listenAddress: string;
  hooks: ControllerHooks;
  sessions: PushSessions;
  socketPath: string;
  ensureRepository: (app: string, appUuid: string) => Promise<string>;
  /** The most one push may send (push-size-limit.ts). */
  pushSizeLimitBytes: number;
  log: (message: string) => void;
}

interface Identity {
  username: string;
  apps: string[];
}

/** A refusal shown to the pusher on stderr (git prints it as is) before the command exits non-zero. */
class Refusal extends Error {}

async function authenticate(ctx: PublicKeyAuthContext, hooks: ControllerHooks): Promise<Identity | null> {
  const owner = await hooks.keyOwner(md5Fingerprint(ctx.key.data));
  if (!owner) return null;
  if (ctx.signature && ctx.blob) {
    const key = ssh2.utils.parseKey(ctx.key.data);
    if (key instanceof Error) return null;
    if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return null;
  }
  return { username: owner.username, apps: owner.apps };
}

/**
 * Whether the user may push to or fetch the app; the key hook lists every app, so the app hook decides. Answers the
 * app's uuid, which its repository must carry.
 */
async function checkAccess(identity: Identity, app: string, hooks: ControllerHooks): Promise<string> {
  if (!identity.apps.includes(app)) throw new Refusal(`User ${identity.username} does not have permission to use app ${app}, or it does not exist.`);
  try {
    return (await hooks.app(identity.username, app)).uuid;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) throw new Refusal(`User ${identity.username} does not have permission to use app ${app}.`);
    if (error instanceof ApiError && error.status === 404) throw new Refusal(`App ${app} does not exist.`);
    throw error;
  }
}

function refuse(channel: ServerChannel, message: string): void {
  channel.stderr.write(`${message}\n`);
  channel.exit(1);
  channel.end();
}

async function runGitCommand(channel: ServerChannel, command: string, identity: Identity, options: SshServerOptions): Promise<void> {
  const { service, app } = parseGitCommand(command);
  const appUuid = await checkAccess(identity, app, options.hooks);
  let session = null;
  if (service === 'git-receive-pack') {
    session = options.sessions.begin(app, identity.username);
    if (!session) {
      // In git's own protocol, so the client shows `fatal: remote error: Another git push is ongoing`.
      channel.write(errPktLine(PUSH_ONGOING));
      channel.exit(1);
      channel.end();
      return;
    }
  }
  const finish = async (): Promise<void> => {
    await session?.finish();
  };
  try {
    const repository = await options.ensureRepository(app, appUuid);
    const git = spawn('git', [service.slice('git-'.length), repository], {
      env: gitProcessEnv(options.socketPath, session),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    options.log(`${identity.username} runs ${service} on ${app}`);
    let refused = false;
    if (session) {
      const counter = new PushSizeCounter(options.pushSizeLimitBytes);
      counter.on('error', (error: Error) => {
        refused = true;
        channel.unpipe(counter);
        session?.abort();
        git.kill('SIGTERM');
        refuse(channel, error.message);
        void finish();
      });
      channel.pipe(counter).pipe(git.stdin);
    } else {
      channel.pipe(git.stdin);
    }
    git.stdin.on('error', () => undefined);
    git.stdout.pipe(channel, { end: false });
    git.stderr.pipe(channel.stderr, { end: false });
    channel.on('close', () => {
      if (git.exitCode === null && git.signalCode === null) {
        session?.abort();
        git.kill('SIGTERM');
      }
    });
    git.on('error', (error) => {
      options.log(`git ${service} failed to start: ${error.message}`);
      refuse(channel, 'The builder could not run git.');
      void finish();
    });
    git.on('close', (code) => {
      if (refused) return;
      channel.exit(code ?? 1);
      channel.end();
      void finish();
    });
  } catch (error) {
    await finish();
    throw error;
  }
}

function handleClient(client: Connection, options: SshServerOptions): void {
  let identity: Identity | null = null;
  client.on('error', () => undefined);
  client.on('authentication', (ctx) => {
    if (ctx.method !== 'publickey') {
      ctx.reject(['publickey']);
      return;
    }
    authenticate(ctx, options.hooks).then(
      (found) => {
        if (!found) return ctx.reject(['publickey']);
        // Without a signature the client only asks whether the key would do; it is proven on the next request.
        if (ctx.signature) identity = found;
        ctx.accept();
      },
      (error: unknown) => {
        options.log(`key lookup failed: ${error instanceof Error ? error.message : String(error)}`);
        ctx.reject(['publickey']);
      },
    );
  });
  client.on('ready', () => {
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('pty', (_accept, reject) => reject?.());
      session.on('env', (accept) => accept?.());
      session.on('shell', (accept) => {
        const channel = accept();
        refuse(channel, 'Interactive shells are not supported; use git push.');
      });
      session.on('exec', (accept, _reject, info) => {
        const channel = accept();
        // A pusher that hangs up mid-write must cost a failed write, never the builder process.
        channel.on('error', () => undefined);
        channel.stderr.on('error', () => undefined);
        if (!identity) return refuse(channel, 'Not authenticated.');
        // Deis's health probe of the SSH side.
        if (info.command.trim() === 'ping') {
          channel.write('pong\n');
          channel.exit(0);
          channel.end();
          return;
        }
        runGitCommand(channel, info.command, identity, options).catch((error: unknown) => {
          if (error instanceof Refusal || error instanceof GitCommandError) return refuse(channel, error.message);
          options.log(`push failed: ${error instanceof Error ? error.message : String(error)}`);
          refuse(channel, 'The builder failed to handle this request; try again.');
        });
      });
    });
  });
}

export interface RunningSshServer {
  port: number;
  close(): Promise<void>;
}

export async function startSshServer(options: SshServerOptions): Promise<RunningSshServer> {
  const connections = new Set<Connection>();
  const server = new ssh2.Server({ hostKeys: [options.hostKey], ident: 'deis-builder' }, (client) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    handleClient(client, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.listenAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => options.log(`SSH server: ${error.message}`));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of connections) client.end();
        server.close(() => resolve());
      }),
  };
}
