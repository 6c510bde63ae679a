/**
 * The builder: receives `git push` over SSH and smart HTTP, builds each push into an image on the Docker engine
 * inside the push, and reports it to the controller, which releases and deploys it.
 * @module
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { cacheVolumeName, DEFAULT_BUILD_TIMEOUT_MS, DEFAULT_SLUG_SIZE_LIMIT_BYTES } from './buildpack-build.ts';
import type { BuildLimits, BuildpackSettings } from './buildpack-build.ts';
import { ControllerHooks } from './controller-hooks.ts';
import { ensureHostKey } from './host-key.ts';
import { startHookSocket } from './hook-socket.ts';
import { startHttpServer } from './http-server.ts';
import { PushSessions } from './push-sessions.ts';
import { DEFAULT_PUSH_SIZE_LIMIT_BYTES } from './push-size-limit.ts';
import { buildAndRelease } from './receive-build.ts';
import type { BuilderRegistry } from './registry-push.ts';
import { ensureRepository, removeRepository, repositoryPath } from './repositories.ts';
import { startSshServer } from './ssh-server.ts';

export interface BuilderOptions {
  controllerUrl: string;
  /** The shared secret sent as `X-Deis-Builder-Auth`. */
  builderKey: string;
  /** Repositories live in `<dataDir>/repos`. */
  dataDir: string;
  /** 0 picks a free port. */
  sshPort: number;
  httpPort: number;
  /** Defaults to 127.0.0.1. */
  listenAddress?: string;
  /** Made (ed25519) on first start when missing. */
  hostKeyPath: string;
  docker?: Dockerode;
  /** Labels build containers and cache volumes; default `deis`. */
  platformName?: string;
  /** The Docker network buildpack builds run on (they reach the package registries from it); default the bridge. */
  buildNetwork?: string;
  /** A buildpack build is stopped after this long; default 15 minutes. */
  buildTimeoutMs?: number;
  /** A larger slug ends the build; default 500 MB. */
  slugSizeLimitBytes?: number;
  /** Memory, CPU and processes of one buildpack build; default `DEFAULT_BUILD_LIMITS`. */
  buildLimits?: BuildLimits;
  /** Heroku's well-known buildpack URLs use the bundled buildpacks without trying the network. */
  preferBundledBuildpacks?: boolean;
  /** Pull the buildpack stacks from a registry instead of making them here. */
  stackPull?: BuildpackSettings['stackPull'];
  /** A push sending more is refused (SSH and HTTP alike); default 1 GiB. */
  pushSizeLimitBytes?: number;
  /** Operational messages; never receives secrets. Defaults to stderr. */
  log?: (message: string) => void;
  /** Every image is pushed there and released under its name (DEIS_REGISTRY, ADR 0019); absent: none. */
  registry?: BuilderRegistry;
}

export interface RunningBuilder {
  sshPort: number;
  httpPort: number;
  stop(): Promise<void>;
}

/** Unix socket paths are limited to about 100 bytes; a deep data directory gets a private temporary one. */
async function hookSocketPath(dataDir: string): Promise<string> {
  const preferred = join(dataDir, 'builder.sock');
  if (Buffer.byteLength(preferred) < 100) return preferred;
  return join(await mkdtemp(join(tmpdir(), 'deis-builder-')), 'builder.sock');
}

export async function startBuilder(options: BuilderOptions): Promise<RunningBuilder> {
  const log = options.log ?? ((message: string) => process.stderr.write(`builder: ${message}\n`));
  const listenAddress = options.listenAddress ?? '127.0.0.1';
  const reposDir = join(options.dataDir, 'repos');
  await mkdir(reposDir, { recursive: true, mode: 0o700 });
  const hostKey = await ensureHostKey(options.hostKeyPath);
  const docker = options.docker ?? new Dockerode();
  const hooks = new ControllerHooks(options.controllerUrl, options.builderKey);
  const sessions = new PushSessions();
  const socketPath = await hookSocketPath(options.dataDir);
  const repository = (app: string, appUuid: string): Promise<string> => ensureRepository(reposDir, app, appUuid);
  const buildpacks: BuildpackSettings = {
    platformName: options.platformName ?? 'deis',
    ...(options.buildNetwork ? { network: options.buildNetwork } : {}),
    dataDir: options.dataDir,
    timeoutMs: options.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
    slugSizeLimitBytes: options.slugSizeLimitBytes ?? DEFAULT_SLUG_SIZE_LIMIT_BYTES,
    ...(options.buildLimits ? { limits: options.buildLimits } : {}),
    preferBundled: options.preferBundledBuildpacks ?? false,
    ...(options.stackPull ? { stackPull: options.stackPull } : {}),
  };

  const hookSocket = await startHookSocket({
    socketPath,
    sessions,
    repositoryPath: (app) => repositoryPath(reposDir, app),
    build: async (session, commit, out) => {
      const released = await buildAndRelease({ hooks, docker, buildpacks, ...(options.registry ? { registry: options.registry } : {}) }, { app: session.app, user: session.user, commit, signal: session.signal, out });
      log(`${session.user} released ${session.app} v${released.version} from ${released.image}`);
    },
  });
  const forgetApp = async (app: string, appUuid: string): Promise<void> => {
    // A push still running for the destroyed app would write into what is being removed.
    sessions.abortApp(app);
    const repositoryState = await removeRepository(reposDir, app, appUuid);
    // The cache and slugs are named by app name only: once a new app of the name has pushed, they are its own.
    if (repositoryState === 'other-app') {
      log(`the destroyed app ${app} already has a successor; its repository, cache and slugs stay`);
      return;
    }
    await rm(join(options.dataDir, 'slugs', app), { recursive: true, force: true });
    try {
      await docker.getVolume(cacheVolumeName(buildpacks.platformName, app)).remove();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) log(`removing the build cache of the destroyed app ${app} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    log(`forgot the destroyed app ${app}${repositoryState === 'removed' ? '' : ' (it had no repository)'}`);
  };
  const pushSizeLimitBytes = options.pushSizeLimitBytes ?? DEFAULT_PUSH_SIZE_LIMIT_BYTES;
  const shared = { listenAddress, hooks, sessions, socketPath, ensureRepository: repository, pushSizeLimitBytes, log };
  const started: { close(): Promise<void> }[] = [hookSocket];
  let ssh: Awaited<ReturnType<typeof startSshServer>>;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    ssh = await startSshServer({ ...shared, hostKey, port: options.sshPort });
    started.push(ssh);
    http = await startHttpServer({ ...shared, port: options.httpPort, reposDir, builderKey: options.builderKey, forgetApp });
  } catch (error) {
    // A port in use must not leave the other listeners behind.
    await Promise.all(started.map((server) => server.close()));
    throw error;
  }

  return {
    sshPort: ssh.port,
    httpPort: http.port,
    stop: async () => {
      sessions.abortAll();
      await Promise.all([ssh.close(), http.close(), hookSocket.close()]);
    },
  };
}
