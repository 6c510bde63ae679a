/**
 * Reads a pushed commit from inside its pre-receive hook: single files (Dockerfile, Procfile) and the whole tree as a
 * tar stream, which is the Docker build context as it is. The hook's git environment is passed along because the
 * pushed objects are still in git's quarantine directory at that point.
 * @module
 */
import { spawn } from 'node:child_process';

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

/**
 * Writes the commit's tree as a tar file at `path`, its paths under `prefix` (`app/`) when given. The engine gets a
 * whole file rather than a pipe from git: on a busy host, contexts piped from git sometimes reached the engine without
 * their Dockerfile ("Cannot locate specified Dockerfile"); a file is complete before anyone reads it.
 */
export function archiveTo(commit: PushedCommit, path: string, prefix?: string): Promise<void> {
  const sha = checkedSha(commit);
  const args = ['archive', '--format=tar', `--output=${path}`, ...(prefix ? [`--prefix=${prefix}`] : []), sha];
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: gitEnvironment(commit), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git archive failed: ${stderr.trim()}`))));
  });
}
