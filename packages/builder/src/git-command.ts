/**
 * The commands a pusher may run over SSH: `git-receive-pack '<app>.git'` and `git-upload-pack '<app>.git'`,
 * with the repository name reduced to an app id the way the Deis builder does (quotes, a leading `/` and `.git` stripped).
 * @module
 */

export type GitService = 'git-receive-pack' | 'git-upload-pack';

export interface GitCommand {
  service: GitService;
  app: string;
}

export class GitCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitCommandError';
  }
}

const APP_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** The app id of a repository path as git clients send it: `'myapp.git'`, `'/myapp.git'`, `myapp`. */
export function appOfRepository(raw: string): string {
  let name = raw.trim();
  if (name.length >= 2 && ((name.startsWith("'") && name.endsWith("'")) || (name.startsWith('"') && name.endsWith('"')))) {
    name = name.slice(1, -1);
  }
  if (name.includes('..')) throw new GitCommandError(`invalid repository name: ${raw}`);
  name = name.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
  if (!APP_ID.test(name)) throw new GitCommandError(`invalid repository name: ${raw}`);
  return name;
}

/** Parses the SSH exec request; anything but the two git services is refused. */
export function parseGitCommand(command: string): GitCommand {
  const match = /^\s*(git[- ](?:receive|upload)-pack)\s+(\S.*?)\s*$/.exec(command);
  if (!match?.[1] || !match[2]) {
    throw new GitCommandError(`only git push and git fetch are supported here, not "${command.slice(0, 80)}"`);
  }
  const service = match[1].replace(' ', '-') as GitService;
  return { service, app: appOfRepository(match[2]) };
}
