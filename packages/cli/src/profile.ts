/**
 * The client profile, stored where the Deis v2 CLI keeps it (`~/.deis/client.json`, or `~/.deis/<name>.json` chosen
 * by `-c`/`DEIS_PROFILE`), in the same JSON shape, so both clients can share one login.
 * @module
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CliError } from './cli-errors.ts';

export interface Profile {
  controller: string;
  token: string;
  username: string;
  ssl_verify: boolean;
  response_limit: number;
}

export const DEFAULT_RESPONSE_LIMIT = 100;

export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || homedir();
}

/** `-c` wins over `DEIS_PROFILE`; a value with a slash or a `.json` suffix is a path, anything else a profile name. */
export function profilePath(env: NodeJS.ProcessEnv, configFlag: string | undefined, cwd: string): string {
  const chosen = configFlag || env.DEIS_PROFILE || 'client';
  if (chosen.includes('/') || chosen.endsWith('.json')) return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
  return join(homeDir(env), '.deis', `${chosen}.json`);
}

export function readProfile(path: string): Profile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: Partial<Profile>;
  try {
    raw = JSON.parse(text) as Partial<Profile>;
  } catch {
    throw new CliError(`${path} is not valid JSON`, { hint: "Fix or delete it, then run 'deis login <controller>'." });
  }
  return {
    controller: typeof raw.controller === 'string' ? raw.controller : '',
    token: typeof raw.token === 'string' ? raw.token : '',
    username: typeof raw.username === 'string' ? raw.username : '',
    ssl_verify: raw.ssl_verify !== false,
    response_limit: typeof raw.response_limit === 'number' && raw.response_limit > 0 ? raw.response_limit : DEFAULT_RESPONSE_LIMIT,
  };
}

/** Written readable by the owner only: it holds the token. */
export function writeProfile(path: string, profile: Profile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(profile)}\n`, { mode: 0o600 });
}

export function deleteProfile(path: string): void {
  rmSync(path, { force: true });
}
