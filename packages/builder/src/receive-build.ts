/**
 * What a push does once git has received it: read the app's config, build the pushed commit into an image, and hand
 * the image and Procfile to the controller, which makes and deploys the release. Every step speaks to the pusher.
 * @module
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { ApiError } from '@deis/sdk/client';
import { BuildpackBuildError, buildTimedOut, buildWithBuildpacks, DEFAULT_BUILD_LIMITS } from './buildpack-build.ts';
import type { BuildpackSettings } from './buildpack-build.ts';
import type { ControllerHooks } from './controller-hooks.ts';
import { buildImage, ImageBuildError } from './docker-build.ts';
import { DockerfileImageError, dockerfileImages } from './dockerfile-images.ts';
import { archiveTo, readFileAt } from './git-objects.ts';
import type { PushedCommit } from './git-objects.ts';
import { parseProcfile, ProcfileError } from './procfile.ts';
import { BUILD_COMPLETE, deployedLines, LAUNCHING, LineSplitter, STARTING_BUILD } from './push-output.ts';
import { ImagePushError, pushImage } from './registry-push.ts';
import type { BuilderRegistry } from './registry-push.ts';

/** A push that must be rejected; the message is what the pusher reads. */
export class PushFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushFailure';
  }
}

export interface ReceiveBuildDeps {
  hooks: ControllerHooks;
  docker: Dockerode;
  /** How pushes without a Dockerfile are built (ADR 0010). */
  buildpacks: BuildpackSettings;
  /** Images are pushed there and released under its name (ADR 0019); absent: they stay on this engine (ADR 0007). */
  registry?: BuilderRegistry;
}

export interface ReceivedPush {
  app: string;
  user: string;
  commit: PushedCommit;
  signal: AbortSignal;
  out: (line: string) => void;
}

export interface ReleasedBuild {
  image: string;
  version: number;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);

/** The image name of a git build: `<app>:git-<sha8>`, on the local engine (ADR 0007), or under the platform's registry (ADR 0019). */
export function imageName(app: string, sha: string, registry?: string): string {
  const name = `${app}:git-${sha.slice(0, 8)}`;
  return registry ? `${registry}/${name}` : name;
}

async function fromController<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiError) throw new PushFailure(error.message);
    throw error;
  }
}

export async function buildAndRelease(deps: ReceiveBuildDeps, push: ReceivedPush): Promise<ReleasedBuild> {
  const { app, user, commit, out } = push;
  out(STARTING_BUILD);
  const config = await fromController(deps.hooks.config(user, app));
  const image = imageName(app, commit.sha, deps.registry?.address);
  const dockerfile = await readFileAt(commit, 'Dockerfile');
  const procfile = dockerfile === null ? await slugBuild(deps, push, image, config.values) : await dockerfileBuild(deps, push, image, config.values, dockerfile);
  if (deps.registry) {
    out(`Pushing to registry ${deps.registry.address}`);
    try {
      await pushImage(deps.docker, deps.registry, image, out, push.signal);
    } catch (error) {
      if (error instanceof ImagePushError) throw new PushFailure(error.message);
      throw error;
    }
  }
  out(BUILD_COMPLETE);

  out(LAUNCHING);
  // The release phase's output (a Procfile `release:` command) reaches the pusher line by line while it runs.
  const releaseOutput = new LineSplitter();
  const released = await fromController(
    deps.hooks.build(
      { receive_user: user, receive_repo: app, image, sha: commit.sha.slice(0, 8), procfile, dockerfile: dockerfile === null ? '' : 'true' },
      (text) => releaseOutput.push(text).forEach((line) => out(line)),
      (text) => out(`!    ${text}`),
    ),
  ).finally(() => releaseOutput.flush().forEach((line) => out(line)));
  const version = released.release.version;
  for (const line of deployedLines(app, version)) out(line);
  return { image, version };
}

/** A push with a Dockerfile at its root: `docker build` of the commit; the Procfile, if any, names the types. */
async function dockerfileBuild(deps: ReceiveBuildDeps, push: ReceivedPush, image: string, values: Record<string, string>, dockerfile: string): Promise<Record<string, string>> {
  const procfileText = await readFileAt(push.commit, 'Procfile');
  let procfile: Record<string, string> = {};
  try {
    if (procfileText !== null) procfile = parseProcfile(procfileText);
  } catch (error) {
    if (error instanceof ProcfileError) throw new PushFailure(error.message);
    throw error;
  }
  const flag = (name: string): boolean => TRUE_WORDS.has((values[name] ?? '').toLowerCase());
  const buildArgs = flag('DEIS_DOCKER_BUILD_ARGS_ENABLED') ? { ...values } : {};
  await checkDockerfileImages(deps, push, dockerfile, buildArgs);
  const work = await mkdtemp(join(tmpdir(), 'deis-context-'));
  const timeout = AbortSignal.timeout(deps.buildpacks.timeoutMs);
  try {
    const context = join(work, 'context.tar');
    await archiveTo(push.commit, context);
    await buildImage({
      docker: deps.docker,
      context: createReadStream(context),
      tag: image,
      buildArgs,
      noCache: flag('DEIS_DISABLE_CACHE'),
      // RUN steps are a tenant's code too: the limits of buildpack builds, on the network they build on.
      limits: {
        ...(deps.buildpacks.network ? { network: deps.buildpacks.network } : {}),
        memoryBytes: (deps.buildpacks.limits ?? DEFAULT_BUILD_LIMITS).memoryBytes,
        cpus: Math.min((deps.buildpacks.limits ?? DEFAULT_BUILD_LIMITS).cpus, availableParallelism()),
      },
      signal: AbortSignal.any([push.signal, timeout]),
      onLine: push.out,
    });
  } catch (error) {
    if (timeout.aborted && !push.signal.aborted) throw new PushFailure(buildTimedOut(deps.buildpacks.timeoutMs));
    if (error instanceof ImageBuildError) throw new PushFailure(error.message);
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return procfile;
}

/**
 * Every image the Dockerfile reads from must be one the app may use (the controller's image hook), asked before the
 * engine sees the Dockerfile: a refused image must not print a line of its files into the push.
 */
async function checkDockerfileImages(deps: ReceiveBuildDeps, push: ReceivedPush, dockerfile: string, buildArgs: Record<string, string>): Promise<void> {
  let images;
  try {
    images = dockerfileImages(dockerfile, buildArgs);
  } catch (error) {
    if (error instanceof DockerfileImageError) throw new PushFailure(`Dockerfile ${error.message}`);
    throw error;
  }
  for (const { reference, instruction, line } of images) {
    try {
      await deps.hooks.image(push.user, push.app, reference);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 400 || error.status === 403)) {
        throw new PushFailure(`Dockerfile line ${line}: ${instruction} ${reference} is refused: ${error.message}`);
      }
      if (error instanceof ApiError) throw new PushFailure(error.message);
      throw error;
    }
  }
}

/** A push without a Dockerfile: buildpacks make a slug, and the slug image runs it. */
async function slugBuild(deps: ReceiveBuildDeps, push: ReceivedPush, image: string, values: Record<string, string>): Promise<Record<string, string>> {
  try {
    const slug = await buildWithBuildpacks({ docker: deps.docker, settings: deps.buildpacks, app: push.app, commit: push.commit, image, values, signal: push.signal, out: push.out });
    return slug.procfile;
  } catch (error) {
    if (error instanceof BuildpackBuildError) throw new PushFailure(error.message);
    throw error;
  }
}
