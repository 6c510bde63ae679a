/**
 * `deis run` on the real engine and router (docs/runs.md): on a pseudo-terminal (tmux) it is an interactive shell
 * that runs commands, follows the window's size, is interrupted by Ctrl-C and exits with the remote exit code; a
 * dropped connection leaves no container; without a terminal it is the contract's `POST /run`; `--detached` answers at
 * once and its output reaches `deis logs`.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { REPO_ROOT, startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';
import { openTerminal } from './drivers/terminal.ts';
import type { Terminal } from './drivers/terminal.ts';

const id = randomBytes(3).toString('hex');
const IMAGE = `e2e-runs/app:${id}`;
const app = `runs-${id}`;
let platform: PlatformInstance;
let user: CliUser;
const terminals: Terminal[] = [];

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-3000)}`);
  return result;
}

/** The app's one-off containers on the engine. */
async function runContainers(): Promise<string[]> {
  const listed = await runProgram('docker', ['ps', '-a', '--format', '{{.Names}}', '--filter', `label=io.deis.platform=${platform.name}`, '--filter', 'label=io.deis.type=run']);
  return listed.stdout.split('\n').filter(Boolean);
}

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `deis run -a <app> bash` on a new pseudo-terminal, once the remote shell has answered. */
async function shell(columns = 80, rows = 24): Promise<Terminal> {
  const terminal = await openTerminal(process.execPath, [join(REPO_ROOT, 'dist/deis.js'), 'run', '-a', app, 'bash'], { env: user.env, cwd: user.home, columns, rows });
  terminals.push(terminal);
  // The typed line shows `$((6*7))`; only a shell that ran it shows 42.
  await terminal.type('echo "ready-$((6*7))"');
  await terminal.press('Enter');
  await terminal.waitForScreen((screen) => screen.includes('ready-42'));
  return terminal;
}

beforeAll(async () => {
  platform = await startPlatform();
  const context = mkdtempSync(join(tmpdir(), 'deis-runs-'));
  try {
    // The run stack has bash, stty and sleep; the app itself only has to serve, so that it deploys.
    writeFileSync(join(context, 'Dockerfile'), 'FROM deis/stack-run:bookworm\nEXPOSE 5000\nCMD ["node", "-e", "require(\'http\').createServer((q, s) => s.end(\'ok\')).listen(process.env.PORT)"]\n');
    const built = await runProgram('docker', ['build', '-q', '-t', IMAGE, context], { timeoutMs: 180_000 });
    if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  user = newCliUser();
  expectOk(await user.deis(['register', platform.controllerUrl, '--username=runner', '--password=correct-horse-battery', '--email=runner@example.test']));
  expectOk(await user.deis(['create', app, '--no-remote']));
  expectOk(await user.deis(['pull', IMAGE, '-a', app]));
}, 300_000);

afterAll(async () => {
  for (const terminal of terminals) await terminal.close().catch(() => undefined);
  await platform?.stop();
  await runProgram('docker', ['rmi', '-f', IMAGE]);
});

describe('deis run on a terminal', () => {
  it('is a shell: it runs commands, follows resizes, is interrupted by Ctrl-C, and exits with the remote exit code', async () => {
    const terminal = await shell(80, 24);
    expect(await runContainers()).toHaveLength(1);
    // A run is never a pod.
    expect(expectOk(await user.deis(['ps', '-a', app])).stdout).not.toContain('-run-');

    await terminal.type('stty size');
    await terminal.press('Enter');
    await terminal.waitForScreen((screen) => /^24 80$/m.test(screen));
    await terminal.resize(100, 30);
    await terminal.type('stty size');
    await terminal.press('Enter');
    await terminal.waitForScreen((screen) => /^30 100$/m.test(screen));

    // Ctrl-C ends the sleep and the rest of its line; the next command answers long before the sleep would have.
    await terminal.type('sleep 300; echo "after-sleep-$((1+1))"');
    await terminal.press('Enter');
    await until(async () => (await runProgram('docker', ['top', (await runContainers())[0]!])).stdout, (top) => top.includes('sleep 300'));
    await terminal.press('C-c');
    await terminal.type('echo "interrupted-$((2+2))"');
    await terminal.press('Enter');
    const screen = await terminal.waitForScreen((s) => s.includes('interrupted-4'), 10_000);
    expect(screen).not.toContain('after-sleep-2');

    await terminal.type('exit 3');
    await terminal.press('Enter');
    expect(await terminal.waitForExit()).toBe(3);
    await until(runContainers, (names) => names.length === 0);
  });

  it('removes the container when the client goes away without a word', async () => {
    const terminal = await shell();
    const [container] = await runContainers();
    expect(container).toMatch(new RegExp(`^${app}-run-[a-z0-9]{5}$`));
    // The CLI is killed outright: no close message, only the connection dropping.
    const pids = await cliPids();
    expect(pids.length).toBe(1);
    process.kill(pids[0]!, 'SIGKILL');
    await until(runContainers, (names) => names.length === 0, 30_000);
    await terminal.waitForExit();
  });
});

/** The pid of the `deis run` processes of this test: node running dist/deis.js with `run -a <app>`. */
async function cliPids(): Promise<number[]> {
  const listed = await runProgram('ps', ['-eo', 'pid=,args=']);
  return listed.stdout
    .split('\n')
    .filter((line) => line.includes('dist/deis.js run -a') && line.includes(app) && !line.includes('sh -c'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('deis run without a terminal, and detached', () => {
  it('keeps the contract behaviour when stdin is not a terminal', async () => {
    const result = expectOk(await user.deis(['run', '-a', app, 'echo "plain-$((5*5))"; test -t 0 || echo no-tty']));
    expect(result.stdout).toBe("Running 'echo \"plain-$((5*5))\"; test -t 0 || echo no-tty'...\nplain-25\nno-tty\n");
    const failing = await user.deis(['run', '-a', app, 'exit 4']);
    expect(failing.code).toBe(4);
  });

  it('answers at once with the run name; the output reaches deis logs and the container goes when it ends', async () => {
    const started = Date.now();
    const result = expectOk(await user.deis(['run', '--detached', '-a', app, '--', 'sleep 2; echo "detached-$((3*3))"']));
    expect(Date.now() - started).toBeLessThan(2_000 + 5_000);
    const name = new RegExp(`(${app}-run-[a-z0-9]{5})`).exec(result.stdout)?.[1];
    expect(name, result.stdout).toBeDefined();
    const logs = await until(async () => (await user.deis(['logs', '-a', app])).stdout, (text) => text.includes('detached-9'), 30_000);
    expect(logs).toMatch(new RegExp(`${app}\\[run\\.v\\d+\\.${name!.slice(-5)}\\]: detached-9`));
    await until(runContainers, (names) => names.length === 0);
  });
});
