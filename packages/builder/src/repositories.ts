/**
 * The bare repositories, one per app under `<dataDir>/repos/<app>.git`, created on first push with the builder's
 * pre-receive hook in place.
 * @module
 */
import { spawn } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preReceiveScript } from './pre-receive-script.ts';

export function repositoryPath(reposDir: string, app: string): string {
  return join(reposDir, `${app}.git`);
}

function runGit(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]} failed: ${stderr.trim()}`))));
  });
}

/** Makes sure the app's bare repository exists and carries the current hook; returns its path. */
export async function ensureRepository(reposDir: string, app: string): Promise<string> {
  const path = repositoryPath(reposDir, app);
  let exists = true;
  try {
    await access(join(path, 'HEAD'));
  } catch {
    exists = false;
  }
  if (!exists) {
    await mkdir(reposDir, { recursive: true, mode: 0o700 });
    await runGit(['init', '--bare', '--quiet', path]);
  }
  // Kept current, so a repository always runs the hook of the builder (and Node) now running; written only when it
  // differs, never under a hook that a fetch's receive might be reading.
  const hookPath = join(path, 'hooks', 'pre-receive');
  const script = preReceiveScript();
  const current = await readFile(hookPath, 'utf8').catch(() => null);
  if (current !== script) await writeFile(hookPath, script, { mode: 0o755 });
  return path;
}
