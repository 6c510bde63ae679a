import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MIRROR,
  STACK_HASH_LABEL,
  STACK_RECIPE,
  buildDockerfile,
  hostMirror,
  mirrorFromAptSources,
  runDockerfile,
  stackPullFromEnv,
  stackRecipeHash,
} from './buildpack-stacks.ts';

// /etc/apt/sources.list.d/debian.sources as Debian 12 installs it.
const DEBIAN_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('the mirror the stacks are made from', () => {
  it('is the first URIs: of the deb822 sources', () => {
    expect(mirrorFromAptSources(DEBIAN_SOURCES)).toBe('http://deb.debian.org/debian');
  });

  it('skips security and updates suites, source-only and disabled entries, and takes the first of several URIs', () => {
    const sources = `Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
Enabled: no
URIs: http://off.example/debian
Suites: bookworm

Types: deb deb-src
URIs: http://mirror.example/debian http://second.example/debian
Suites: bookworm
`;
    expect(mirrorFromAptSources(sources)).toBe('http://mirror.example/debian');
  });

  it('falls back to the one-line sources, with options and comments', () => {
    const list = `# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.example/debian-security bookworm-security main
deb [arch=amd64] http://ftp.example/debian/ bookworm main contrib
`;
    expect(mirrorFromAptSources(undefined, list)).toBe('http://ftp.example/debian/');
    expect(mirrorFromAptSources('', list)).toBe('http://ftp.example/debian/');
  });

  it('takes the deb822 sources before the one-line ones, and any first entry when no main suite is listed', () => {
    expect(mirrorFromAptSources(DEBIAN_SOURCES, 'deb http://ftp.example/debian bookworm main')).toBe('http://deb.debian.org/debian');
    expect(mirrorFromAptSources('Types: deb\nURIs: http://only.example/debian-security\nSuites: bookworm-security\n')).toBe('http://only.example/debian-security');
    expect(mirrorFromAptSources('', '')).toBeUndefined();
    expect(mirrorFromAptSources(undefined, undefined)).toBeUndefined();
  });

  describe("from the host's files", () => {
    const dir = mkdtempSync(join(tmpdir(), 'deis-sources-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const deb822 = join(dir, 'debian.sources');
    const oneLine = join(dir, 'sources.list');

    it('reads debian.sources, else sources.list, else uses deb.debian.org', () => {
      expect(hostMirror({ deb822, oneLine })).toBe(DEFAULT_MIRROR);
      expect(DEFAULT_MIRROR).toBe('http://deb.debian.org/debian');
      writeFileSync(oneLine, 'deb http://list.example/debian bookworm main\n');
      expect(hostMirror({ deb822, oneLine })).toBe('http://list.example/debian');
      writeFileSync(deb822, 'Types: deb\nURIs: http://deb822.example/debian\nSuites: bookworm\nComponents: main\n');
      expect(hostMirror({ deb822, oneLine })).toBe('http://deb822.example/debian');
    });
  });
});

describe('DEIS_STACK_BUILD_IMAGE and DEIS_STACK_RUN_IMAGE', () => {
  it('neither: the platform makes the stacks', () => {
    expect(stackPullFromEnv({})).toBeUndefined();
    expect(stackPullFromEnv({ DEIS_STACK_BUILD_IMAGE: '', DEIS_STACK_RUN_IMAGE: ' ' })).toBeUndefined();
  });

  it('both: the images to pull', () => {
    expect(stackPullFromEnv({ DEIS_STACK_BUILD_IMAGE: 'registry.example:5000/deis/stack-build:bookworm', DEIS_STACK_RUN_IMAGE: 'registry.example:5000/deis/stack-run:bookworm' })).toEqual({
      build: 'registry.example:5000/deis/stack-build:bookworm',
      run: 'registry.example:5000/deis/stack-run:bookworm',
    });
  });

  it('only one of them is refused, saying they go together', () => {
    const message = 'DEIS_STACK_BUILD_IMAGE and DEIS_STACK_RUN_IMAGE go together: set both (the stack images to pull) or neither (the platform makes them)';
    expect(() => stackPullFromEnv({ DEIS_STACK_BUILD_IMAGE: 'example/build:1' })).toThrow(message);
    expect(() => stackPullFromEnv({ DEIS_STACK_RUN_IMAGE: 'example/run:1', DEIS_STACK_BUILD_IMAGE: '' })).toThrow(message);
  });

  it('a value with white space inside is not an image reference', () => {
    expect(() => stackPullFromEnv({ DEIS_STACK_BUILD_IMAGE: 'example/build:1 --rm', DEIS_STACK_RUN_IMAGE: 'example/run:1' })).toThrow(
      'DEIS_STACK_BUILD_IMAGE must be an image reference, not "example/build:1 --rm"',
    );
  });
});

describe('the recipe', () => {
  const mirror = 'http://deb.debian.org/debian';
  const hash = stackRecipeHash(STACK_RECIPE, mirror);

  it('has the packages of the design', () => {
    expect(STACK_RECIPE.suite).toBe('bookworm');
    expect(STACK_RECIPE.runPackages).toEqual(['ca-certificates', 'curl', 'netbase', 'nodejs', 'npm', 'procps', 'python3', 'tzdata']);
    expect(STACK_RECIPE.buildPackages).toEqual(expect.arrayContaining(['build-essential', 'git', 'golang-go', 'jq', 'npm', 'pkg-config', 'python3-dev', 'python3-pip', 'python3-venv', 'xz-utils']));
    expect(STACK_RECIPE.buildPackages).not.toContain('nodejs');
  });

  it('hashes the same twice, and differently for another mirror, package list or label', () => {
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(stackRecipeHash({ ...STACK_RECIPE }, mirror)).toBe(hash);
    expect(stackRecipeHash(STACK_RECIPE, 'http://ftp.example/debian')).not.toBe(hash);
    expect(stackRecipeHash({ ...STACK_RECIPE, runPackages: [...STACK_RECIPE.runPackages, 'less'] }, mirror)).not.toBe(hash);
    expect(stackRecipeHash({ ...STACK_RECIPE, buildPackages: STACK_RECIPE.buildPackages.slice(1) }, mirror)).not.toBe(hash);
    expect(stackRecipeHash({ ...STACK_RECIPE, labels: { 'io.deis.test': 'x' } }, mirror)).not.toBe(hash);
    expect(stackRecipeHash({ ...STACK_RECIPE, suite: 'trixie' }, mirror)).not.toBe(hash);
  });

  it('refuses what is not a package name or a plain label, since both end up in the Dockerfiles', () => {
    expect(() => stackRecipeHash({ ...STACK_RECIPE, runPackages: ['curl; rm -rf /'] }, mirror)).toThrow('not a Debian package name: "curl; rm -rf /"');
    expect(() => stackRecipeHash({ ...STACK_RECIPE, labels: { 'io.deis.test': 'a" b' } }, mirror)).toThrow('not a stack label');
  });

  it('labels both images with the hash and installs each list in its own image', () => {
    const run = runDockerfile('deis/stack-base:x', hash, STACK_RECIPE);
    const build = buildDockerfile('deis/stack-run:bookworm', hash, STACK_RECIPE);
    expect(run).toMatch(/^FROM deis\/stack-base:x\n/);
    expect(build).toMatch(/^FROM deis\/stack-run:bookworm\n/);
    for (const text of [run, build]) expect(text).toContain(`${STACK_HASH_LABEL}="${hash}"`);
    expect(run).toContain(`--no-install-recommends ${STACK_RECIPE.runPackages.join(' ')} `);
    expect(build).toContain(`--no-install-recommends ${STACK_RECIPE.buildPackages.join(' ')} `);
    expect(run).toContain('useradd --uid 1000 --gid 1000 --home-dir /app');
    expect(run).toContain('ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    // The package lists go with the images' layers.
    for (const text of [run, build]) expect(text).toContain('rm -rf /var/lib/apt/lists/*');
  });
});
