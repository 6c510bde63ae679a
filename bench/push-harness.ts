/**
 * What the push benchmarks share: a platform instance with a registered user and key, apps made from the e2e sample
 * apps, and the time from a `git push` to the first 200 through the router. Traffic goes only to 127.0.0.1.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { newCliUser } from '../test/e2e/drivers/cli.ts';
import type { CliUser } from '../test/e2e/drivers/cli.ts';
import { sampleAppRepo, sshCommand } from '../test/e2e/drivers/git.ts';
import type { AppRepo } from '../test/e2e/drivers/git.ts';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { startPlatform } from '../test/e2e/drivers/platform.ts';
import type { PlatformInstance } from '../test/e2e/drivers/platform.ts';
import { runProgram } from '../test/e2e/drivers/processes.ts';
import type { Completed } from '../test/e2e/drivers/processes.ts';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `median 1.23 s [1.20, 1.23, 1.31]` */
export function figures(values: number[]): string {
  return `median ${median(values).toFixed(2)} s [${values.map((v) => v.toFixed(2)).join(', ')}]`;
}

export function ok(result: Completed, what: string): Completed {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Prints the machine the figures come from. */
export async function printMachine(runs: number): Promise<void> {
  const docker = await runProgram('docker', ['version', '--format', '{{.Server.Version}}']);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, Docker ${docker.stdout.trim()}`);
  console.log(`runs per figure: ${runs}\n`);
}

export interface BenchPlatform {
  platform: PlatformInstance;
  user: CliUser;
  /** A new app from a sample app's directory, with its `deis` remote on this instance's builder. */
  newApp(sample: string, name: string): Promise<AppRepo>;
  /** Seconds from now-ish `started` until the app answers 200 with a body containing `marker`. */
  until200(app: string, marker: string, started: number): Promise<number>;
}

/** Starts an instance (with `env` added to its settings; `entry`: another build's platform.js) with a user `bench` whose key pushes. */
export async function startBenchPlatform(env: Record<string, string> = {}, entry?: string): Promise<BenchPlatform> {
  const platform = await startPlatform(env, entry);
  const user = newCliUser();
  const keyPath = join(user.home, '.ssh', 'id_ed25519');
  mkdirSync(join(user.home, '.ssh'), { mode: 0o700 });
  ok(await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]), 'ssh-keygen');
  user.env.GIT_SSH_COMMAND = sshCommand(keyPath, platform.sshPort);
  ok(await user.deis(['register', platform.controllerUrl, '--username=bench', '--password=bench-password-1', '--email=bench@example.test']), 'register');
  ok(await user.deis(['keys:add', `${keyPath}.pub`]), 'keys:add');
  return {
    platform,
    user,
    async newApp(sample, name) {
      const repo = await sampleAppRepo(sample, user.env);
      ok(await user.deis(['create', name, '--no-remote'], { cwd: repo.dir }), 'create');
      ok(await repo.git(['remote', 'add', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${name}.git`]), 'git remote');
      return repo;
    },
    async until200(app, marker, started) {
      const host = `${app}.${platform.domain}`;
      const deadline = started + 180_000;
      while (Date.now() < deadline) {
        const response = await viaRouter(platform.routerPort, host).catch(() => null);
        if (response?.status === 200 && response.body.includes(marker)) return (Date.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`${host} did not answer with "${marker}" within 180 s`);
    },
  };
}
