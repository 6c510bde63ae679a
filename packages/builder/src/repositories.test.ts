import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureRepository, removeRepository, repositoryAppUuid } from './repositories.ts';

const OLD = '11111111-1111-4111-8111-111111111111';
const NEW = '22222222-2222-4222-8222-222222222222';

describe('repositories are bound to the uuid of their app', () => {
  let reposDir: string;
  beforeEach(() => {
    reposDir = mkdtempSync(join(tmpdir(), 'deis-repos-'));
  });
  afterEach(() => rmSync(reposDir, { recursive: true, force: true }));

  /** Stores a commit in the bare repository, as a push would, and answers its sha. */
  function storeCommit(path: string): string {
    const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', path, ...args], { encoding: 'utf8', input }).trim();
    const tree = git(['mktree'], '');
    const commit = git(['-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit-tree', tree, '-m', 'old history'], '');
    git(['update-ref', 'refs/heads/main', commit]);
    return commit;
  }
  const hasCommit = (path: string, sha: string): boolean => {
    try {
      execFileSync('git', ['--git-dir', path, 'cat-file', '-e', sha], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  it("serves a re-created app of the same name a new, empty repository, never the old one's history", async () => {
    const path = await ensureRepository(reposDir, 'myapp', OLD);
    expect(await repositoryAppUuid(path)).toBe(OLD);
    const sha = storeCommit(path);
    expect(hasCommit(await ensureRepository(reposDir, 'myapp', OLD), sha)).toBe(true);
    const again = await ensureRepository(reposDir, 'myapp', NEW);
    expect(again).toBe(path);
    expect(hasCommit(again, sha)).toBe(false);
    expect(await repositoryAppUuid(again)).toBe(NEW);
    expect(existsSync(join(again, 'hooks', 'pre-receive'))).toBe(true);
  });

  it('adopts a repository made before repositories were bound', async () => {
    const path = join(reposDir, 'legacy.git');
    execFileSync('git', ['init', '--bare', '--quiet', path]);
    const sha = storeCommit(path);
    expect(hasCommit(await ensureRepository(reposDir, 'legacy', OLD), sha)).toBe(true);
    expect(await repositoryAppUuid(path)).toBe(OLD);
  });

  it("removes a destroyed app's repository, but not one already bound to a new app of that name", async () => {
    const path = await ensureRepository(reposDir, 'myapp', NEW);
    expect(await removeRepository(reposDir, 'myapp', OLD)).toBe('other-app');
    expect(existsSync(path)).toBe(true);
    expect(await removeRepository(reposDir, 'myapp', NEW)).toBe('removed');
    expect(existsSync(path)).toBe(false);
    expect(await removeRepository(reposDir, 'myapp', NEW)).toBe('absent');
  });

  it('makes one repository when a fetch and a push arrive together', async () => {
    const [a, b] = await Promise.all([ensureRepository(reposDir, 'busy', OLD), ensureRepository(reposDir, 'busy', OLD)]);
    expect(a).toBe(b);
    expect(await repositoryAppUuid(a)).toBe(OLD);
  });
});
