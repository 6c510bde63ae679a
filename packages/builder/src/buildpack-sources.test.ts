import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BuildpackFetchError, BuildpackSourceError, buildpackName, fetchBuildpack, parseBuildpackUrl, planBuildpacks } from './buildpack-sources.ts';
import { BUNDLED_BUILDPACKS } from './bundled-buildpacks.ts';

const scratch = mkdtempSync(join(tmpdir(), 'deis-bp-sources-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd, encoding: 'utf8' });
}

/** A local git repository holding a buildpack whose detect prints `name`; tagged v1, then changed on main. */
function buildpackRepo(dir: string, name: string): string {
  const repo = join(scratch, dir);
  execFileSync('mkdir', ['-p', join(repo, 'bin')]);
  writeFileSync(join(repo, 'bin', 'detect'), `#!/bin/sh\necho ${name}-v1\n`, { mode: 0o755 });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'v1');
  git(repo, 'tag', 'v1');
  writeFileSync(join(repo, 'bin', 'detect'), `#!/bin/sh\necho ${name}-v2\n`, { mode: 0o755 });
  git(repo, 'commit', '-qam', 'v2');
  return repo;
}

describe('choosing buildpacks', () => {
  it('tries the bundled buildpacks in order when the app names none', () => {
    expect(planBuildpacks(undefined, null)).toEqual({ mode: 'detect', sources: BUNDLED_BUILDPACKS.map((name) => ({ kind: 'bundled', name })) });
    expect(planBuildpacks('', '# only a comment\n\n').mode).toBe('detect');
  });

  it('runs BUILDPACK_URL alone, before any .buildpacks file', () => {
    expect(planBuildpacks('https://example.test/bp.git#v2', 'https://example.test/other.git')).toEqual({
      mode: 'chain',
      sources: [{ kind: 'git', url: 'https://example.test/bp.git', ref: 'v2' }],
    });
  });

  it('chains the .buildpacks lines in order, skipping blanks and comments', () => {
    const plan = planBuildpacks(undefined, '# first the tools\nhttps://example.test/a.git\n\n  git@example.test:org/b.git#main  \r\n');
    expect(plan).toEqual({
      mode: 'chain',
      sources: [
        { kind: 'git', url: 'https://example.test/a.git', ref: null },
        { kind: 'git', url: 'git@example.test:org/b.git', ref: 'main' },
      ],
    });
  });

  it('refuses what git must not fetch: other protocols, options, odd refs, non-URLs', () => {
    expect(() => parseBuildpackUrl('ext::sh -c touch% /tmp/pwned')).toThrow(BuildpackSourceError);
    expect(() => parseBuildpackUrl('-uhack')).toThrow(BuildpackSourceError);
    expect(() => parseBuildpackUrl('ftp://example.test/bp.git')).toThrow('buildpack URLs may be http, https, git, ssh, file, not ftp');
    expect(() => parseBuildpackUrl('https://example.test/bp.git#$(reboot)')).toThrow('is not a branch, tag or commit');
    expect(() => parseBuildpackUrl('just words')).toThrow('is not a buildpack URL');
  });

  it("takes Heroku's registry names for the bundled buildpack of their language", () => {
    expect(parseBuildpackUrl('heroku/nodejs')).toEqual({ kind: 'bundled', name: 'nodejs', requested: 'heroku/nodejs' });
    expect(parseBuildpackUrl('heroku/python#v1')).toEqual({ kind: 'bundled', name: 'python', requested: 'heroku/python' });
    expect(() => parseBuildpackUrl('someone/thing')).toThrow('is not a buildpack URL');
  });

  it('names a buildpack by its repository', () => {
    expect(buildpackName({ kind: 'git', url: 'https://example.test/org/heroku-buildpack-bad.git/', ref: null })).toBe('heroku-buildpack-bad');
    expect(buildpackName({ kind: 'git', url: 'git@example.test:org/tools.git', ref: null })).toBe('tools');
    expect(buildpackName({ kind: 'bundled', name: 'go' })).toBe('go');
  });
});

describe('fetching buildpacks', () => {
  const lines: string[] = [];
  const options = { protectedDir: join(scratch, 'platform-data'), preferBundled: false, timeoutMs: 30_000, out: (line: string) => lines.push(line) };

  it('clones a git URL at its default branch, or at the #ref', async () => {
    const repo = buildpackRepo('bp-ref', 'custom');
    await fetchBuildpack(parseBuildpackUrl(`file://${repo}`), join(scratch, 'head'), options);
    expect(readFileSync(join(scratch, 'head', 'bin', 'detect'), 'utf8')).toContain('custom-v2');
    await fetchBuildpack(parseBuildpackUrl(`file://${repo}#v1`), join(scratch, 'tagged'), options);
    expect(readFileSync(join(scratch, 'tagged', 'bin', 'detect'), 'utf8')).toContain('custom-v1');
    expect(lines).toContain('-----> Fetching custom buildpack');
  });

  it('fails with git exit code and output when a buildpack cannot be fetched', async () => {
    const failure = await fetchBuildpack(parseBuildpackUrl(`file://${join(scratch, 'missing.git')}`), join(scratch, 'missing'), options).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BuildpackFetchError);
    expect((failure as BuildpackFetchError).message).toBe('missing exited with code 128, stopping build');
    expect((failure as BuildpackFetchError).output).toMatch(/does not exist|not a git repository|Could not read/i);
  });

  it('never fetches a repository inside the platform data directory (other apps code)', async () => {
    const inside = buildpackRepo(join('platform-data', 'repos', 'victim.git'), 'victim');
    const failure = await fetchBuildpack(parseBuildpackUrl(`file://${inside}`), join(scratch, 'stolen'), options).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BuildpackFetchError);
    expect((failure as BuildpackFetchError).output).toContain("inside the platform's data directory");
    expect(existsSync(join(scratch, 'stolen'))).toBe(false);
  });

  it('uses the bundled buildpack for a well-known Heroku URL, offline at once or after a failed fetch', async () => {
    lines.length = 0;
    await fetchBuildpack(parseBuildpackUrl('https://github.com/heroku/heroku-buildpack-nodejs.git'), join(scratch, 'offline'), { ...options, preferBundled: true });
    expect(existsSync(join(scratch, 'offline', 'bin', 'compile'))).toBe(true);
    expect(lines).toEqual(['-----> Using the bundled nodejs buildpack for https://github.com/heroku/heroku-buildpack-nodejs.git']);
    lines.length = 0;
    await fetchBuildpack(parseBuildpackUrl('heroku/static'), join(scratch, 'registry-name'), options);
    expect(existsSync(join(scratch, 'registry-name', 'bin', 'compile'))).toBe(true);
    expect(lines).toEqual(['-----> Using the bundled static buildpack for heroku/static']);

    // No traffic leaves the machine: git's own URL rewriting points the well-known host at a path that does not exist.
    const home = join(scratch, 'home');
    execFileSync('mkdir', ['-p', home]);
    writeFileSync(join(home, '.gitconfig'), `[url "file://${join(scratch, 'nowhere')}/"]\n\tinsteadOf = https://github.com/\n`);
    const realHome = process.env.HOME;
    process.env.HOME = home;
    lines.length = 0;
    try {
      await fetchBuildpack(parseBuildpackUrl('https://github.com/heroku/heroku-buildpack-go#main'), join(scratch, 'fallback'), options);
    } finally {
      process.env.HOME = realHome;
    }
    expect(existsSync(join(scratch, 'fallback', 'bin', 'compile'))).toBe(true);
    expect(readFileSync(join(scratch, 'fallback', 'bin', 'detect'), 'utf8')).toContain('go.mod');
    expect(lines).toEqual(['-----> Fetching custom buildpack', '       Could not fetch https://github.com/heroku/heroku-buildpack-go; using the bundled go buildpack instead']);
  });
});
