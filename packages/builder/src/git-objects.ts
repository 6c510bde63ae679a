/**
 * Reads a pushed commit from inside its pre-receive hook: single files (Dockerfile, Procfile) and the whole tree as a
 * tar stream, which is the Docker build context as it is. The hook's git environment is passed along because the
 * pushed objects are still in git's quarantine directory at that point.
 * @module
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface PushedCommit {
  repositoryPath: string;
  /** The full 40-hex commit id. */
  sha: string;
  /** GIT_OBJECT_DIRECTORY and friends from the hook's environment. */
  gitEnv: Record<string, string>;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

export function isFullSha(value: string): boolean {
  return FULL_SHA.test(value);
}

function gitEnvironment(commit: PushedCommit): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, GIT_DIR: commit.repositoryPath, ...commit.gitEnv };
}

function checkedSha(commit: PushedCommit): string {
  // The sha becomes a git argument: only a plain object id may get there, never an option.
  if (!isFullSha(commit.sha)) throw new Error(`not a commit id: ${commit.sha}`);
  return commit.sha;
}

/** A file at the commit's root, or null when the commit has none. */
export function readFileAt(commit: PushedCommit, path: string): Promise<string | null> {
  const sha = checkedSha(commit);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', 'blob', `${sha}:${path}`], { env: gitEnvironment(commit), stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(chunks).toString('utf8') : null));
  });
}

/** The commit's tree as a tar stream, its paths under `prefix` (`app/`) when given; the stream errors if git fails. */
export function archive(commit: PushedCommit, prefix?: string): Readable {
  const sha = checkedSha(commit);
  const args = ['archive', '--format=tar', ...(prefix ? [`--prefix=${prefix}`] : []), sha];
  const child = spawn('git', args, { env: gitEnvironment(commit), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`git archive failed: ${stderr.trim()}`));
  });
  return child.stdout;
}
