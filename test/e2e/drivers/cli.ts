/**
 * The built `deis` CLI, run as a user would, with a HOME of its own.
 * @module
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshCommand } from './git.ts';
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

function succeeded(what: string, result: Completed): void {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}: ${result.stderr || result.stdout}`);
}

/**
 * A user registered on the platform (the first one, so an admin) with an SSH key of their own added, and git set to
 * push with it: what most end-to-end tests start from.
 */
export async function registeredUserWithKey(platform: { controllerUrl: string; sshPort: number }, username = 'ada'): Promise<CliUser> {
  const user = newCliUser();
  const keyPath = join(user.home, '.ssh', 'id_ed25519');
  mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
  succeeded('ssh-keygen', await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', keyPath]));
  user.env.GIT_SSH_COMMAND = sshCommand(keyPath, platform.sshPort);
  succeeded('deis register', await user.deis(['register', platform.controllerUrl, `--username=${username}`, '--password=correct-horse-battery', `--email=${username}@example.test`]));
  succeeded('deis keys:add', await user.deis(['keys:add', `${keyPath}.pub`]));
  return user;
}
