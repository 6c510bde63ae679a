/**
 * What a push does once git has received it: read the app's config, build the pushed commit into an image, and hand
 * the image and Procfile to the controller, which makes and deploys the release. Every step speaks to the pusher.
 * @module
 */
import type Dockerode from 'dockerode';
import { ApiError } from '@deis/sdk/client';
import type { ControllerHooks } from './controller-hooks.ts';
import { buildImage, ImageBuildError } from './docker-build.ts';
import { archive, readFileAt } from './git-objects.ts';
import type { PushedCommit } from './git-objects.ts';
import { parseProcfile, ProcfileError } from './procfile.ts';
import { BUILD_COMPLETE, deployedLines, LAUNCHING, NO_DOCKERFILE, STARTING_BUILD } from './push-output.ts';

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

/** The image name of a git build: `<app>:git-<sha8>`, on the local engine (ADR 0007). */
export function imageName(app: string, sha: string): string {
  return `${app}:git-${sha.slice(0, 8)}`;
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

  const dockerfile = await readFileAt(commit, 'Dockerfile');
  if (dockerfile === null) throw new PushFailure(NO_DOCKERFILE);
  const procfileText = await readFileAt(commit, 'Procfile');
  let procfile: Record<string, string> = {};
  try {
    if (procfileText !== null) procfile = parseProcfile(procfileText);
  } catch (error) {
    if (error instanceof ProcfileError) throw new PushFailure(error.message);
    throw error;
  }

  const image = imageName(app, commit.sha);
  const flag = (name: string): boolean => TRUE_WORDS.has((config.values[name] ?? '').toLowerCase());
  const buildArgsEnabled = flag('DEIS_DOCKER_BUILD_ARGS_ENABLED');
  try {
    await buildImage({
      docker: deps.docker,
      context: archive(commit),
      tag: image,
      ...(buildArgsEnabled ? { buildArgs: { ...config.values } } : {}),
      noCache: flag('DEIS_DISABLE_CACHE'),
      signal: push.signal,
      onLine: out,
    });
  } catch (error) {
    if (error instanceof ImageBuildError) throw new PushFailure(error.message);
    throw error;
  }
  out(BUILD_COMPLETE);

  out(LAUNCHING);
  const released = await fromController(
    deps.hooks.build({ receive_user: user, receive_repo: app, image, sha: commit.sha.slice(0, 8), procfile, dockerfile: 'true' }),
  );
  const version = released.release.version;
  for (const line of deployedLines(app, version)) out(line);
  return { image, version };
}
