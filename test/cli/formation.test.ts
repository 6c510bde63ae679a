import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let user: CliUser;
const app = ['-a', 'procs'];

beforeAll(async () => {
  ({ server, user } = await startWithUser('runner'));
  server.controller.scheduler.behaviour = () => ({ output: [{ stream: 'stdout', text: 'listening on 5000' }] });
  server.controller.scheduler.runHandler = (spec) => {
    const command = [...(spec.entrypoint ?? []), ...(spec.command ?? [])].join(' ');
    return command.includes('fail') ? { exitCode: 3, output: 'it failed\n' } : { exitCode: 0, output: `ran: ${command}\n` };
  };
  await user.deis(['create', 'procs', '--no-remote']);
  await user.deis(['config:set', 'PORT=5000', ...app]);
  const pulled = await user.deis(['pull', 'example/procs:1', ...app, '--procfile', 'web: ./web\nworker: ./work']);
  if (pulled.code !== 0) throw new Error(pulled.stderr);
}, 60_000);
afterAll(async () => server?.close());

describe('processes', () => {
  it('lists processes by type', async () => {
    const ps = await user.deis(['ps', ...app]);
    expect(ps.stderr).toBe('');
    expect(ps.stdout).toMatch(/^=== procs Processes\n--- web:\nprocs-web-\d{8,10}-[a-z0-9]{5} up \(v3\)\n$/);
  });

  it('scales and prints the new processes', async () => {
    const scaled = await user.deis(['scale', 'web=2', 'worker=1', ...app]);
    expect(scaled.stderr).toBe('');
    expect(scaled.stdout).toContain('Scaling processes... but first, coffee!');
    expect(scaled.stdout).toMatch(/done in \d+s/);
    expect(scaled.stdout.match(/^procs-web-\S+ up \(v3\)$/gm)).toHaveLength(2);
    expect(scaled.stdout).toMatch(/^--- worker:\nprocs-worker-\S+ up \(v3\)$/m);
    const drink = await user.deis(['ps:scale', 'worker=0', ...app], { env: { DEIS_DRINK_OF_CHOICE: 'tea' } });
    expect(drink.stdout).toContain('but first, tea!');
    const bad = await user.deis(['scale', 'web', ...app]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'web' does not match the pattern 'type=num', ex: web=2");
    const unknown = await user.deis(['scale', 'nope=1', ...app]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Container type nope does not exist in application');
  });

  it('restarts all processes, one type, or one process', async () => {
    const before = JSON.parse((await user.deis(['ps', ...app, '--json'])).stdout) as { name: string; type: string }[];
    const all = await user.deis(['ps:restart', ...app]);
    expect(all.stdout).toContain('Restarting processes... but first, coffee!');
    expect(all.stdout).toContain('=== procs Processes');
    const after = JSON.parse((await user.deis(['ps', ...app, '--json'])).stdout) as { name: string }[];
    expect(after.map((pod) => pod.name).some((name) => before.some((old) => old.name === name))).toBe(false);

    expect((await user.deis(['ps:restart', 'web', ...app])).stdout).toMatch(/^procs-web-\S+ up/m);
    const current = JSON.parse((await user.deis(['ps', ...app, '--json'])).stdout) as { name: string }[];
    const one = current[0]!.name;
    const single = await user.deis(['ps:restart', one, ...app, '--json']);
    expect(JSON.parse(single.stdout)).toHaveLength(1);
    expect((await user.deis(['ps:restart', 'nothere', ...app])).stdout).toContain('Could not find any processes to restart');
  });
});

describe('run and logs', () => {
  it('runs a command, prints its output and exits with its exit code', async () => {
    // The banner repeats the command, so the command's own output is matched whole, line by line.
    const ok = await user.deis(['run', ...app, 'echo hello']);
    expect(ok.stdout).toBe("Running 'echo hello'...\nran: /bin/sh -c echo hello\n");
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // A failed command's output goes to stderr, the banner alone to stdout.
    const failed = await user.deis(['run', ...app, '--', 'sh', '-c', 'fail now']);
    expect(failed.stdout).toBe("Running 'sh -c 'fail now''...\n");
    expect(failed.stderr).toBe('it failed\n');
    expect(failed.code).toBe(3);
    const json = await user.deis(['run', '--json', ...app, 'ls', '-la']);
    expect(JSON.parse(json.stdout)).toEqual({ exit_code: 0, output: 'ran: /bin/sh -c ls -la\n' });
    expect((await user.deis(['run', ...app])).code).toBe(2);
  });

  it('starts a detached run, printing its name at once; its output reaches the logs', async () => {
    const detached = await user.deis(['run', '--detached', ...app, 'echo in-the-background']);
    expect(detached.code, detached.stderr).toBe(0);
    const name = /^Running 'echo in-the-background' as (procs-run-[a-z0-9]{5}); its output goes to 'deis logs -a procs'\.\n$/.exec(detached.stdout)?.[1];
    expect(name, detached.stdout).toBeDefined();
    const json = await user.deis(['run', '--detached', '--json', ...app, 'true']);
    expect(JSON.parse(json.stdout)).toEqual({ name: expect.stringMatching(/^procs-run-[a-z0-9]{5}$/) });
    const logs = await user.deis(['logs', ...app]);
    expect(logs.stdout).toContain(`procs[run.v3.${name!.slice(-5)}]: ran: /bin/sh -c echo in-the-background`);
  });

  it('prints the app\'s log lines', async () => {
    const logs = await user.deis(['logs', ...app]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/procs\[web\.v3\.[a-z0-9]+\]: listening on 5000/);
    const limited = await user.deis(['logs', '-n', '1', ...app, '--json']);
    expect(JSON.parse(limited.stdout)).toHaveLength(1);
    expect((await user.deis(['logs', '--lines=many', ...app])).code).toBe(2);
    const web = await user.deis(['logs', '--type=web', '--release=3', ...app]);
    expect(web.stdout).toMatch(/procs\[web\.v3\.[a-z0-9]+\]: listening on 5000/);
    expect(web.stdout.trim().split('\n').every((line) => / procs\[web\.v3\./.test(line))).toBe(true);
  });

  it('reports a refused stream as any API error, and ends', async () => {
    const refused = await user.deis(['logs', '-f', '-a', 'no-such-app']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('No App matches the given query.');
  });

  it('follows the logs over one stream, printing new lines as they come', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'logs', '-f', ...app], { cwd: user.home, env: user.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const waitFor = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in: ${output}`)), 15_000);
        const check = () => {
          if (!pattern.test(output)) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        };
        child.stdout.on('data', check);
        check();
      });
    try {
      await waitFor(/procs\[web\.v3\.[a-z0-9]+\]: listening on 5000/);
      expect((await user.deis(['scale', 'worker=1', ...app])).code).toBe(0);
      await waitFor(/procs\[worker\.v3\.[a-z0-9]+\]: listening on 5000/);
      const lines = output.trim().split('\n');
      expect(new Set(lines).size).toBe(lines.length);
    } finally {
      child.kill();
    }
  });
});
