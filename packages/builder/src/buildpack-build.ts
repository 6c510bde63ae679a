/**
 * A buildpack build (ADR 0010): the pushed source compiled by Heroku-API buildpacks in a throwaway container of the
 * build stack, packed into a slug, and the slug laid on the run stack as the app's image. The pusher sees every line
 * the buildpacks print; a failure ends the push with the buildpack's own words and leaves the running release alone.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { BuildpackFetchError, BuildpackSourceError, buildpackName, fetchBuildpack, planBuildpacks } from './buildpack-sources.ts';
import { BUILD_STACK_IMAGE, RUN_STACK_IMAGE, ensureBuildpackStacks } from './buildpack-stacks.ts';
import type { BuildpackStackOptions } from './buildpack-stacks.ts';
import { buildImage, ImageBuildError } from './docker-build.ts';
import { archiveTo, readFileAt } from './git-objects.ts';
import { pipBuildSources } from './host-package-sources.ts';
import type { PushedCommit } from './git-objects.ts';
import { parseProcfile, ProcfileError } from './procfile.ts';
import { LineSplitter } from './push-output.ts';
import { APP_UID, BUILD_PATHS, BUILD_RUNNER, SLUG_INIT } from './slug-scripts.ts';

/** A buildpack build that must end the push; the message is its last line. */
export class BuildpackBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildpackBuildError';
  }
}

export interface BuildpackSettings {
  /** Labels build containers and names cache volumes, so that platforms sharing an engine stay apart. */
  platformName: string;
  /** The Docker network builds reach the package registries from; default the engine's bridge. */
  network?: string;
  /** Slugs are kept in `<dataDir>/slugs/<app>/`; local buildpack repositories under it are refused. */
  dataDir: string;
  timeoutMs: number;
  slugSizeLimitBytes: number;
  /** Heroku's well-known buildpacks use the bundled ones without trying the network. */
  preferBundled: boolean;
  /** Pull the stacks instead of making them (`DEIS_STACK_BUILD_IMAGE`, `DEIS_STACK_RUN_IMAGE`). */
  stackPull?: BuildpackStackOptions['pull'];
  /** The host's CA bundle, which builds trust (TLS-intercepting proxies included). */
  caBundle?: string;
  /** The system pip configuration files whose index settings builds use; default pip's own (/etc/pip.conf…). */
  pipConfigs?: string[];
  /** What one build container may use, so a build cannot starve the host or the apps on it; default `DEFAULT_BUILD_LIMITS`. */
  limits?: BuildLimits;
}

export interface BuildLimits {
  memoryBytes: number;
  /** CPU cores; lowered to the host's count, which the engine refuses to exceed. */
  cpus: number;
  /** Processes and threads. */
  pidsLimit: number;
}

export const DEFAULT_BUILD_LIMITS: BuildLimits = { memoryBytes: 2 * 1024 ** 3, cpus: 2, pidsLimit: 4096 };

/** The engine's resource settings of a build container: `cpus` as nano-cores, at most `hostCpus`, at least 0.01. */
export function buildResources(limits: BuildLimits, hostCpus: number): { Memory: number; NanoCpus: number; PidsLimit: number } {
  const cpus = Math.max(0.01, Math.min(limits.cpus, hostCpus));
  return { Memory: limits.memoryBytes, NanoCpus: Math.round(cpus * 1e9), PidsLimit: limits.pidsLimit };
}

export const DEFAULT_BUILD_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_SLUG_SIZE_LIMIT_BYTES = 500 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 2 * 60_000;
/** Slugs kept per app: the image of each release holds its slug; these are for inspection. */
const SLUGS_KEPT = 2;
const STACK_NAME = 'deis-bookworm';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);

export interface BuildpackBuildRequest {
  docker: Dockerode;
  settings: BuildpackSettings;
  app: string;
  commit: PushedCommit;
  /** The tag of the slug image. */
  image: string;
  /** The app's config values: files of ENV_DIR, and BUILDPACK_URL, DEIS_DISABLE_CACHE. */
  values: Record<string, string>;
  signal: AbortSignal;
  out: (line: string) => void;
}

export interface BuiltSlug {
  procfile: Record<string, string>;
  slugPath: string;
  slugBytes: number;
}

/** What ends a push whose build, Dockerfile or buildpack, ran past DEIS_BUILD_TIMEOUT. */
export function buildTimedOut(timeoutMs: number): string {
  return `The build took longer than ${Math.round(timeoutMs / 1000)} s and was stopped (DEIS_BUILD_TIMEOUT)`;
}

/** `1.7M` the way Heroku prints slug sizes: kilobytes under a megabyte, else megabytes with one decimal. */
export function slugSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.ceil(bytes / 1024))}K`;
  return `${(bytes / (1024 * 1024)).toFixed(1)}M`;
}

/** The Docker volume that keeps an app's build cache between builds. */
export function cacheVolumeName(platformName: string, app: string): string {
  return `${platformName}-buildcache-${app}`;
}

/** The environment of the build container: the dyno's HOME, the stack, the commit, and the host's CA for every tool. */
export function buildEnvironment(sha: string, disableCache: boolean, caBundle: string | null): string[] {
  const env = [`HOME=${BUILD_PATHS.app}`, `STACK=${STACK_NAME}`, `SOURCE_VERSION=${sha}`];
  if (caBundle) {
    for (const name of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'npm_config_cafile', 'PIP_CERT', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO']) env.push(`${name}=${caBundle}`);
  }
  if (disableCache) env.push('DEIS_DISABLE_CACHE=1');
  return env;
}

/** `tar -c` of some entries of a directory, as a stream (never the directory itself: its mode would land on /tmp). */
function tarOf(dir: string, entries: string[]): Readable {
  const child = spawn('tar', ['-c', '-C', dir, '--', ...entries], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`tar failed: ${stderr.trim()}`));
  });
  return child.stdout;
}

function untar(stream: NodeJS.ReadableStream, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar failed: ${stderr.trim()}`))));
    stream.on('error', (error) => child.stdin.destroy(error));
    stream.pipe(child.stdin);
  });
}

/** The stage put at /tmp of the build container: the buildpacks in order, ENV_DIR and the runner. */
async function stageBuild(request: BuildpackBuildRequest, stage: string): Promise<void> {
  const { settings, values, out } = request;
  let plan;
  try {
    plan = planBuildpacks(values.BUILDPACK_URL, await readFileAt(request.commit, '.buildpacks'));
  } catch (error) {
    if (error instanceof BuildpackSourceError) throw new BuildpackBuildError(error.message);
    throw error;
  }
  const buildpacks = join(stage, 'buildpacks');
  await mkdir(buildpacks, { recursive: true });
  const order: string[] = [];
  for (const [index, source] of plan.sources.entries()) {
    const dir = `${String(index + 1).padStart(2, '0')}-${buildpackName(source)}`;
    try {
      await fetchBuildpack(source, join(buildpacks, dir), {
        protectedDir: settings.dataDir,
        preferBundled: settings.preferBundled,
        timeoutMs: FETCH_TIMEOUT_MS,
        signal: request.signal,
        out,
      });
    } catch (error) {
      if (!(error instanceof BuildpackFetchError)) throw error;
      for (const line of error.output.trimEnd().split('\n')) if (line !== '') out(`       ${line}`);
      throw new BuildpackBuildError(error.message);
    }
    order.push(dir);
  }
  await writeFile(join(buildpacks, 'order'), `${order.join('\n')}\n`);
  await writeFile(join(buildpacks, 'mode'), `${plan.mode}\n`);

  const env = join(stage, 'env');
  await mkdir(env);
  for (const [name, value] of Object.entries(values)) if (ENV_NAME.test(name)) await writeFile(join(env, name), value);
  await mkdir(join(stage, 'runner'));
  await writeFile(join(stage, 'runner', 'build'), BUILD_RUNNER, { mode: 0o755 });
}

/** Waits for the build container to exit: its exit code, or `timeout` after the limit (it is killed then). */
async function exitOf(container: Dockerode.Container, timeoutMs: number, signal: AbortSignal): Promise<number | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      container.wait().then((result: { StatusCode: number }) => result.StatusCode),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new BuildpackBuildError('the build was interrupted'));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Keeps the newest slugs of an app, removes the others. */
async function pruneSlugs(dir: string): Promise<void> {
  const entries = await Promise.all((await readdir(dir)).map(async (name) => ({ name, mtime: (await stat(join(dir, name))).mtimeMs })));
  entries.sort((a, b) => b.mtime - a.mtime);
  for (const entry of entries.slice(SLUGS_KEPT)) await unlink(join(dir, entry.name)).catch(() => undefined);
}

const SLUG_DOCKERFILE = `FROM ${RUN_STACK_IMAGE}
ADD slug.tgz /app/
COPY init /runner/init
USER ${APP_UID}:${APP_UID}
WORKDIR /app
ENV HOME=/app
ENTRYPOINT ["/runner/init"]
CMD ["start", "web"]
`;

/** Lays the slug on the run stack as `image`, with `/runner/init` as its entrypoint. */
async function buildSlugImage(request: BuildpackBuildRequest, context: string): Promise<void> {
  await writeFile(join(context, 'Dockerfile'), SLUG_DOCKERFILE);
  await writeFile(join(context, 'init'), SLUG_INIT, { mode: 0o755 });
  const lines: string[] = [];
  try {
    await buildImage({
      docker: request.docker,
      context: tarOf(context, ['Dockerfile', 'init', 'slug.tgz']),
      tag: request.image,
      signal: request.signal,
      onLine: (line) => lines.push(line),
    });
  } catch (error) {
    if (!(error instanceof ImageBuildError)) throw error;
    for (const line of lines.slice(-10)) request.out(`       ${line}`);
    throw new BuildpackBuildError(`the slug image could not be made: ${error.message}`);
  }
}

/**
 * Builds the pushed commit with buildpacks into the image `request.image` and returns its process types. The build
 * container and the stage are removed whatever happens; the app's cache volume stays for the next build.
 */
export async function buildWithBuildpacks(request: BuildpackBuildRequest): Promise<BuiltSlug> {
  const { docker, settings, out, signal } = request;
  await ensureBuildpackStacks({ docker, onProgress: (line) => out(`-----> ${line}`), ...(settings.stackPull ? { pull: settings.stackPull } : {}) });
  const stage = await mkdtemp(join(tmpdir(), 'deis-buildpack-'));
  let container: Dockerode.Container | undefined;
  try {
    await stageBuild(request, stage);
    const disableCache = TRUE_WORDS.has((request.values.DEIS_DISABLE_CACHE ?? '').toLowerCase());
    const caBundle = settings.caBundle ?? '/etc/ssl/certs/ca-certificates.crt';
    const hasCa = existsSync(caBundle);
    const packageSources = pipBuildSources(settings.pipConfigs);
    const volume = cacheVolumeName(settings.platformName, request.app);
    await docker.createVolume({ Name: volume, Labels: { 'io.deis.platform': settings.platformName, 'io.deis.build-cache': request.app } });
    if (disableCache) out('-----> Building without the cache (DEIS_DISABLE_CACHE)');

    const hostCpus = ((await docker.info()) as { NCPU?: number }).NCPU ?? 1;
    container = await docker.createContainer({
      name: `${settings.platformName}-build-${request.app}-${request.commit.sha.slice(0, 8)}-${randomBytes(3).toString('hex')}`,
      Image: BUILD_STACK_IMAGE,
      Entrypoint: ['/bin/bash', BUILD_PATHS.runner],
      Cmd: [],
      Env: [...buildEnvironment(request.commit.sha, disableCache, hasCa ? '/etc/ssl/certs/ca-certificates.crt' : null), ...packageSources.env],
      WorkingDir: BUILD_PATHS.app,
      Tty: true,
      Labels: { 'io.deis.platform': settings.platformName, 'io.deis.build': request.app },
      HostConfig: {
        NetworkMode: settings.network ?? 'bridge',
        Mounts: [
          { Type: 'volume', Source: volume, Target: BUILD_PATHS.cache },
          ...(hasCa ? [{ Type: 'bind' as const, Source: caBundle, Target: '/etc/ssl/certs/ca-certificates.crt', ReadOnly: true }] : []),
          ...packageSources.directories.map((directory) => ({ Type: 'bind' as const, Source: directory, Target: directory, ReadOnly: true })),
        ],
        // Root only long enough to hand the files to the app user (chown, setpriv); nothing more, and no way back up.
        CapDrop: ['ALL'],
        CapAdd: ['CHOWN', 'SETUID', 'SETGID', 'FOWNER', 'DAC_OVERRIDE'],
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        ...buildResources(settings.limits ?? DEFAULT_BUILD_LIMITS, hostCpus),
      },
    });
    await archiveTo(request.commit, join(stage, 'source.tar'), 'app/');
    await container.putArchive(join(stage, 'source.tar'), { path: '/' });
    await container.putArchive(tarOf(stage, ['buildpacks', 'env', 'runner']), { path: '/tmp' });

    const lines = new LineSplitter();
    const output = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const ended = new Promise<void>((resolve) => {
      output.on('end', resolve);
      output.on('close', resolve);
      output.on('error', () => resolve());
    });
    output.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk.toString('utf8'))) out(line);
    });
    await container.start();
    const exit = await exitOf(container, settings.timeoutMs, signal);
    if (exit === 'timeout') {
      await container.kill().catch(() => undefined);
      throw new BuildpackBuildError(buildTimedOut(settings.timeoutMs));
    }
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    for (const line of lines.flush()) out(line);

    await untar(await container.getArchive({ path: BUILD_PATHS.out }), stage);
    const results = join(stage, 'out');
    if (exit !== 0) {
      const failure = await readFile(join(results, 'failure'), 'utf8').catch(() => '');
      throw new BuildpackBuildError(failure.trim() || `Build exited with code ${exit}, stopping build`);
    }

    let procfile: Record<string, string>;
    try {
      procfile = parseProcfile(await readFile(join(results, 'Procfile'), 'utf8'));
    } catch (error) {
      if (error instanceof ProcfileError) throw new BuildpackBuildError(error.message);
      throw error;
    }
    const slugBytes = (await stat(join(results, 'slug.tgz'))).size;
    if (slugBytes > settings.slugSizeLimitBytes) {
      throw new BuildpackBuildError(`Compiled slug size: ${slugSize(slugBytes)} is too large (max is ${slugSize(settings.slugSizeLimitBytes)}, DEIS_SLUG_SIZE_LIMIT)`);
    }
    out(`-----> Compiled slug size is ${slugSize(slugBytes)}`);
    await buildSlugImage(request, results);

    const slugs = join(settings.dataDir, 'slugs', request.app);
    await mkdir(slugs, { recursive: true });
    const slugPath = join(slugs, `${request.commit.sha.slice(0, 8)}.tgz`);
    await copyFile(join(results, 'slug.tgz'), slugPath);
    await pruneSlugs(slugs);
    return { procfile, slugPath, slugBytes };
  } finally {
    if (container) await container.remove({ force: true }).catch(() => undefined);
    await rm(stage, { recursive: true, force: true });
  }
}
