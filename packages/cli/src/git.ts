/**
 * Running git, always with an argument array (never a shell string: app names and URLs come from users).
 * @module
 */

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runGit(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<GitResult> {
  // Loaded on first use, to keep it out of the startup of commands that never run git.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: 127, stdout, stderr: error.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface GitRemote {
  name: string;
  url: string;
}

/** The remotes of the repository at cwd; none outside a repository. */
export async function listRemotes(cwd: string, env: NodeJS.ProcessEnv): Promise<GitRemote[]> {
  const result = await runGit(['remote', '-v'], cwd, env);
  if (result.code !== 0) return [];
  const remotes = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const match = /^(\S+)\s+(\S+)\s+\((fetch|push)\)$/.exec(line.trim());
    if (match && !remotes.has(match[1]!)) remotes.set(match[1]!, match[2]!);
  }
  return [...remotes].map(([name, url]) => ({ name, url }));
}
