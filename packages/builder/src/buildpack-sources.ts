/**
 * Which buildpacks a build runs, and getting them: the bundled ones tried in order when the app names none, else
 * `BUILDPACK_URL` or the `.buildpacks` file, each a git URL with an optional `#ref`, cloned afresh for every build.
 * Heroku's well-known buildpacks fall back to the bundled buildpack of their language when they cannot be fetched.
 * @module
 */
import { spawn } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { BUNDLED_BUILDPACKS, bundledBuildpacksDir, wellKnownBuildpack } from './bundled-buildpacks.ts';
import type { BundledBuildpack } from './bundled-buildpacks.ts';

/** A bundled buildpack (`requested`: the name the app gave for it, such as `heroku/nodejs`), or a git repository. */
export type BuildpackSource = { kind: 'bundled'; name: BundledBuildpack; requested?: string } | { kind: 'git'; url: string; ref: string | null };

export interface BuildpackPlan {
  /** `detect`: the first that accepts the app; `chain`: every one, in order. */
  mode: 'detect' | 'chain';
  sources: BuildpackSource[];
}

export class BuildpackSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildpackSourceError';
  }
}

// `ext::` and the like run commands; a buildpack comes over the network or from a local repository.
const ALLOWED_PROTOCOLS = 'http:https:git:ssh:file';
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

/** `https://host/repo.git#v1.2` → url and ref; anything that is not a URL git may fetch is refused. */
export function parseBuildpackUrl(value: string): BuildpackSource {
  const trimmed = value.trim();
  const hash = trimmed.indexOf('#');
  const url = hash === -1 ? trimmed : trimmed.slice(0, hash);
  const ref = hash === -1 ? null : trimmed.slice(hash + 1);
  if (ref !== null && !/^[A-Za-z0-9._/-]+$/.test(ref)) throw new BuildpackSourceError(`buildpack ref "${ref}" is not a branch, tag or commit`);
  if (url.startsWith('-')) throw new BuildpackSourceError(`"${url}" is not a buildpack URL`);
  // Heroku's registry names (`heroku/nodejs`) are no git URL: they name Heroku's own buildpack, whose bundled twin builds.
  const registryName = /^[a-z0-9-]+\/[a-z0-9-]+$/i.test(url) ? wellKnownBuildpack(url) : undefined;
  if (registryName) return { kind: 'bundled', name: registryName, requested: url };
  if (SCP_LIKE.test(url)) return { kind: 'git', url, ref };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BuildpackSourceError(`"${url}" is not a buildpack URL (a git URL such as https://example.com/buildpack.git#v1)`);
  }
  const protocol = parsed.protocol.slice(0, -1);
  if (!ALLOWED_PROTOCOLS.split(':').includes(protocol)) throw new BuildpackSourceError(`buildpack URLs may be ${ALLOWED_PROTOCOLS.split(':').join(', ')}, not ${protocol}`);
  return { kind: 'git', url, ref };
}

/** The buildpacks of one build: BUILDPACK_URL wins, then `.buildpacks` (one URL a line, `#` comments), else the bundled ones. */
export function planBuildpacks(buildpackUrl: string | undefined, dotBuildpacks: string | null): BuildpackPlan {
  if (buildpackUrl !== undefined && buildpackUrl.trim() !== '') return { mode: 'chain', sources: [parseBuildpackUrl(buildpackUrl)] };
  if (dotBuildpacks !== null) {
    const lines = dotBuildpacks
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (lines.length > 0) return { mode: 'chain', sources: lines.map(parseBuildpackUrl) };
  }
  return { mode: 'detect', sources: BUNDLED_BUILDPACKS.map((name) => ({ kind: 'bundled', name })) };
}

/** A short name for lines the pusher reads: a bundled buildpack's name, a repository's base name. */
export function buildpackName(source: BuildpackSource): string {
  if (source.kind === 'bundled') return source.name;
  const base = source.url.replace(/\/+$/, '').split(/[/:]/).pop() ?? source.url;
  return base.replace(/\.git$/, '') || 'buildpack';
}

interface Clone {
  code: number;
  output: string;
}

function git(args: string[], timeoutMs: number, signal?: AbortSignal): Promise<Clone> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', args, {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GIT_TERMINAL_PROMPT: '0',
        GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
        // No key of the platform's is offered to a buildpack's host, and no host key is trusted blindly.
        GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=/dev/null',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => (signal?.aborted ? reject(error) : resolvePromise({ code: 128, output: `${output}${error.message}\n` })));
    child.on('close', (code, killed) => resolvePromise({ code: code ?? 128, output: killed ? `${output}timed out after ${timeoutMs / 1000} s\n` : output }));
  });
}

/** Clones a buildpack into `target`; resolves to git's exit code and output (0 on success). */
export async function cloneBuildpack(source: Extract<BuildpackSource, { kind: 'git' }>, target: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Clone> {
  if (source.ref === null) return git(['clone', '--quiet', '--depth', '1', '--', source.url, target], options.timeoutMs, options.signal);
  const cloned = await git(['clone', '--quiet', '--no-checkout', '--', source.url, target], options.timeoutMs, options.signal);
  if (cloned.code !== 0) return cloned;
  return git(['-C', target, 'checkout', '--quiet', '--detach', source.ref], options.timeoutMs, options.signal);
}

export interface FetchOptions {
  /** Local repositories under this directory (the platform's own: other apps' code) are never fetched. */
  protectedDir: string;
  /** Well-known Heroku buildpacks use the bundled one at once, without trying the network. */
  preferBundled: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  out: (line: string) => void;
}

/** Why a buildpack could not be fetched: git's exit code and its output, for the pusher. */
export class BuildpackFetchError extends Error {
  constructor(
    readonly buildpack: string,
    readonly code: number,
    readonly output: string,
  ) {
    super(`${buildpack} exited with code ${code}, stopping build`);
    this.name = 'BuildpackFetchError';
  }
}

function copyBundled(name: BundledBuildpack, target: string): Promise<void> {
  return cp(join(bundledBuildpacksDir(), name), target, { recursive: true });
}

function isProtected(url: string, protectedDir: string): boolean {
  if (!url.startsWith('file:')) return false;
  const path = resolve(new URL(url).pathname);
  const root = resolve(protectedDir);
  return path === root || path.startsWith(root + sep);
}

/** Puts one buildpack's files at `target`: a copy of a bundled one, or a fresh clone. */
export async function fetchBuildpack(source: BuildpackSource, target: string, options: FetchOptions): Promise<void> {
  if (source.kind === 'bundled') {
    if (source.requested) options.out(`-----> Using the bundled ${source.name} buildpack for ${source.requested}`);
    return copyBundled(source.name, target);
  }
  const name = buildpackName(source);
  const bundled = wellKnownBuildpack(source.url);
  if (bundled && options.preferBundled) {
    options.out(`-----> Using the bundled ${bundled} buildpack for ${source.url}`);
    return copyBundled(bundled, target);
  }
  options.out('-----> Fetching custom buildpack');
  if (isProtected(source.url, options.protectedDir)) {
    throw new BuildpackFetchError(name, 128, `fatal: ${source.url} is inside the platform's data directory and may not be used as a buildpack\n`);
  }
  const cloned = await cloneBuildpack(source, target, options);
  if (cloned.code === 0) return;
  if (bundled) {
    options.out(`       Could not fetch ${source.url}; using the bundled ${bundled} buildpack instead`);
    await rm(target, { recursive: true, force: true });
    return copyBundled(bundled, target);
  }
  throw new BuildpackFetchError(name, cloned.code, cloned.output);
}
