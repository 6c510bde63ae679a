/**
 * The bare repositories, one per app under `<dataDir>/repos/<app>.git`, created on first push with the builder's
 * pre-receive hook in place. A repository is bound to the uuid of the app it was made for (`deis.appuuid` in its git
 * config): an app destroyed and created again under the same name is another app, and must never be served the old
 * one's history, even when the destroy could not reach the builder to remove it.
 * @module
 */
import { spawn } from 'node:child_process';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preReceiveScript } from './pre-receive-script.ts';

export function repositoryPath(reposDir: string, app: string): string {
  return join(reposDir, `${app}.git`);
}

function runGit(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`git ${args[0]} failed: ${stderr.trim()}`))));
  });
}

const UUID_KEY = 'deis.appuuid';

/** The app uuid a repository is bound to; null when it carries none (made before repositories were bound). */
export async function repositoryAppUuid(path: string): Promise<string | null> {
  try {
    return (await runGit(['config', '--file', join(path, 'config'), '--get', UUID_KEY])).trim() || null;
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(join(path, 'HEAD'));
    return true;
  } catch {
    return false;
  }
}

/** One change at a time per repository: a fetch and a push arriving together must not both recreate it. */
const pending = new Map<string, Promise<unknown>>();
function serialized<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = pending.get(path) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  pending.set(path, settled);
  void settled.then(() => {
    if (pending.get(path) === settled) pending.delete(path);
  });
  return next;
}

/**
 * Makes sure the app's bare repository exists, belongs to the app with this uuid and carries the current hook; returns
 * its path. A repository of another app of the same name (a destroyed one) is removed first. One that names no uuid is
 * adopted: it was made before repositories were bound, when only the app that still has the name could have pushed.
 */
export function ensureRepository(reposDir: string, app: string, appUuid: string): Promise<string> {
  const path = repositoryPath(reposDir, app);
  return serialized(path, async () => {
    if (await exists(path)) {
      const bound = await repositoryAppUuid(path);
      if (bound !== null && bound !== appUuid) await rm(path, { recursive: true, force: true });
    }
    if (!(await exists(path))) {
      await mkdir(reposDir, { recursive: true, mode: 0o700 });
      await rm(path, { recursive: true, force: true });
      await runGit(['init', '--bare', '--quiet', path]);
    }
    if ((await repositoryAppUuid(path)) !== appUuid) await runGit(['config', '--file', join(path, 'config'), UUID_KEY, appUuid]);
    // Kept current, so a repository always runs the hook of the builder (and Node) now running; written only when it
    // differs, never under a hook that a fetch's receive might be reading.
    const hookPath = join(path, 'hooks', 'pre-receive');
    const script = preReceiveScript();
    const current = await readFile(hookPath, 'utf8').catch(() => null);
    if (current !== script) await writeFile(hookPath, script, { mode: 0o755 });
    return path;
  });
}

/**
 * Removes the repository of a destroyed app, unless it already belongs to another app of that name (`other-app`: a
 * new app took the name and pushed before the destroy reached the builder).
 */
export function removeRepository(reposDir: string, app: string, appUuid: string): Promise<'removed' | 'absent' | 'other-app'> {
  const path = repositoryPath(reposDir, app);
  return serialized(path, async () => {
    if (!(await exists(path))) return 'absent';
    const bound = await repositoryAppUuid(path);
    if (bound !== null && bound !== appUuid) return 'other-app';
    await rm(path, { recursive: true, force: true });
    return 'removed';
  });
}
