/**
 * The environment of the git processes the builder starts: enough for git to run, plus what the pre-receive hook
 * needs to find the builder and name its push. Nothing else of the builder's own environment (its keys) goes along.
 * @module
 */
import { PUSH_ENV, SOCKET_ENV } from './pre-receive-script.ts';
import type { PushSession } from './push-sessions.ts';

export function gitProcessEnv(socketPath: string, session: PushSession | null, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...extra };
  env[SOCKET_ENV] = socketPath;
  if (session) env[PUSH_ENV] = session.id;
  return env;
}
