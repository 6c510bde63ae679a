/**
 * The built `deis` CLI, run as a user would, with a HOME of its own.
 * @module
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './platform.ts';
import { runProgram } from './processes.ts';
import type { Completed } from './processes.ts';

export interface CliUser {
  home: string;
  deis(args: string[], options?: { cwd?: string; input?: string }): Promise<Completed>;
  env: NodeJS.ProcessEnv;
}

export function newCliUser(extraEnv: NodeJS.ProcessEnv = {}): CliUser {
  const home = mkdtempSync(join(tmpdir(), 'deis-home-'));
  const env = { ...process.env, HOME: home, NO_COLOR: '1', GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.test', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.test', ...extraEnv };
  return {
    home,
    env,
    deis: (args, options = {}) => runProgram(process.execPath, [join(REPO_ROOT, 'dist/deis.js'), ...args], { cwd: options.cwd ?? home, env, input: options.input }),
  };
}
