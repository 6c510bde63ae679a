/**
 * The buildpacks that ship with the platform (packages/builder/buildpacks/<name>/bin/{detect,compile,release}): their
 * names in detection order, where they are on disk, and which of Heroku's well-known buildpack URLs each stands in
 * for when that URL cannot be fetched (no GitHub here).
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Detection order: the first whose bin/detect succeeds builds the app. */
export const BUNDLED_BUILDPACKS = ['go', 'nodejs', 'python', 'static', 'procfile'] as const;

export type BundledBuildpack = (typeof BUNDLED_BUILDPACKS)[number];

/**
 * The directory holding the bundled buildpacks. From source this module is in packages/builder/src; bundled into
 * dist/platform.js it is in <repo>/dist, and the buildpacks stay in the repository rather than in the bundle.
 * `moduleDir` is only for tests of the bundle's layout.
 */
export function bundledBuildpacksDir(moduleDir: string = import.meta.dirname): string {
  const candidates = [resolve(moduleDir, '..', 'buildpacks'), resolve(moduleDir, '..', 'packages', 'builder', 'buildpacks')];
  const found = candidates.find((dir) => existsSync(resolve(dir, BUNDLED_BUILDPACKS[0], 'bin', 'detect')));
  if (!found) throw new Error(`The bundled buildpacks are missing: looked in ${candidates.join(' and ')}`);
  return found;
}

const LANGUAGES: Readonly<Record<string, BundledBuildpack>> = { nodejs: 'nodejs', go: 'go', python: 'python', static: 'static' };

// github.com/heroku/heroku-buildpack-<language> over https, http, git, ssh or scp-like SSH, with an optional .git,
// trailing slash and #ref; Heroku's `heroku/<language>` shorthand; and the buildpack registry's tarballs that the
// shorthand resolves to.
const GITHUB_URL = /^(?:(?:https?|git):\/\/(?:[^@/]+@)?(?:www\.)?github\.com\/|ssh:\/\/git@github\.com(?::\d+)?\/|git@github\.com:)heroku\/heroku-buildpack-([a-z]+)(?:\.git)?\/?(?:#.*)?$/i;
const SHORTHAND = /^heroku\/([a-z]+)(?:#.*)?$/i;
const REGISTRY_URL = /^https?:\/\/(?:buildpack-registry|codon-buildpacks)\.s3\.amazonaws\.com\/buildpacks\/heroku\/([a-z]+)\.tgz$/i;

/** The bundled buildpack that stands in for one of Heroku's official buildpack URLs, or undefined for any other URL. */
export function wellKnownBuildpack(url: string): BundledBuildpack | undefined {
  const trimmed = url.trim();
  for (const pattern of [GITHUB_URL, SHORTHAND, REGISTRY_URL]) {
    const language = pattern.exec(trimmed)?.[1]?.toLowerCase();
    if (language !== undefined) return Object.hasOwn(LANGUAGES, language) ? LANGUAGES[language] : undefined;
  }
  return undefined;
}
