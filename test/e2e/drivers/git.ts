/**
 * A sample app as a git repository of its own, pushed as a developer would.
 * @module
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './platform.ts';
import { runProgram } from './processes.ts';
import type { Completed } from './processes.ts';

export interface AppRepo {
  dir: string;
  git(args: string[]): Promise<Completed>;
  /** Writes a file and commits it. */
  commitFile(path: string, content: string, message: string): Promise<void>;
}

export async function sampleAppRepo(app: string, env: NodeJS.ProcessEnv): Promise<AppRepo> {
  const dir = mkdtempSync(join(tmpdir(), 'deis-app-'));
  cpSync(join(REPO_ROOT, 'test/e2e/apps', app), dir, { recursive: true });
  const git = (args: string[]) => runProgram('git', args, { cwd: dir, env });
  await git(['init', '-q', '-b', 'main']);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'first']);
  return {
    dir,
    git,
    async commitFile(path, content, message) {
      writeFileSync(join(dir, path), content);
      await git(['add', '-A']);
      await git(['commit', '-q', '-m', message]);
    },
  };
}

/** GIT_SSH_COMMAND for a push to the platform's builder on loopback, with the user's key. */
export function sshCommand(keyPath: string, port: number): string {
  return `ssh -i ${keyPath} -p ${port} -o HostName=127.0.0.1 -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
}
