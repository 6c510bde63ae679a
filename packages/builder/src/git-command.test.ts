import { describe, expect, it } from 'vitest';
import { appOfRepository, GitCommandError, parseGitCommand } from './git-command.ts';

describe('parseGitCommand', () => {
  it('accepts receive-pack and upload-pack of an app repository in the forms git clients send', () => {
    expect(parseGitCommand("git-receive-pack 'myapp.git'")).toEqual({ service: 'git-receive-pack', app: 'myapp' });
    expect(parseGitCommand("git-upload-pack '/my-app.git'")).toEqual({ service: 'git-upload-pack', app: 'my-app' });
    expect(parseGitCommand('git receive-pack myapp')).toEqual({ service: 'git-receive-pack', app: 'myapp' });
  });

  it('refuses other commands, traversal and names that are not app ids', () => {
    expect(() => parseGitCommand('cat /etc/passwd')).toThrow(GitCommandError);
    expect(() => parseGitCommand('git-receive-pack')).toThrow(GitCommandError);
    expect(() => parseGitCommand("git-receive-pack '../other.git'")).toThrow(/invalid repository name/);
    expect(() => parseGitCommand("git-receive-pack 'a/b.git'")).toThrow(/invalid repository name/);
    expect(() => parseGitCommand("git-receive-pack 'App.git'")).toThrow(/invalid repository name/);
    expect(() => parseGitCommand("git-receive-pack 'x.git'; rm -rf /")).toThrow(GitCommandError);
  });

  it('strips quotes, a leading slash and .git', () => {
    expect(appOfRepository('"/demo.git"')).toBe('demo');
    expect(appOfRepository('demo')).toBe('demo');
  });
});
