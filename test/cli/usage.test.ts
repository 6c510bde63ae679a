import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, ensureCliBuilt, newCliUser, REPO_ROOT, runProgram } from './cli-harness.ts';

const GOLDEN_DIR = join(REPO_ROOT, 'test/cli/golden');
const update = process.env.UPDATE_GOLDEN === '1';

// `deis help` lists every command; each gets a golden file named after it (colons become underscores).
let commands: string[] = [];

beforeAll(async () => {
  await ensureCliBuilt();
  const overview = await newCliUser().deis(['help']);
  commands = [...overview.stdout.matchAll(/^ {2}([a-z]+(?::[a-z]+)?) {2,}/gm)].map((match) => match[1]!);
}, 60_000);

describe('help', () => {
  it('lists every command of the Deis v2 CLI', () => {
    for (const name of ['apps:create', 'apps:destroy', 'apps:run', 'auth:register', 'autoscale:set', 'builds:create', 'certs:attach', 'config:push', 'domains:remove', 'git:remote', 'healthchecks:set', 'keys:add', 'labels:unset', 'limits:set', 'maintenance:on', 'perms:create', 'ps:scale', 'ps:restart', 'registry:set', 'releases:rollback', 'routing:disable', 'tags:set', 'tls:enable', 'users:list', 'whitelist:add', 'version', 'completion']) {
      expect(commands).toContain(name);
    }
  });

  it('matches the golden help of every command (UPDATE_GOLDEN=1 rewrites them)', async () => {
    const user = newCliUser();
    if (update) {
      rmSync(GOLDEN_DIR, { recursive: true, force: true });
      mkdirSync(GOLDEN_DIR, { recursive: true });
    }
    // A few at a time: dozens of node processes at once would starve the other test files.
    const results: { name: string; result: Awaited<ReturnType<typeof user.deis>> }[] = [];
    for (let start = 0; start < commands.length; start += 6) {
      const batch = commands.slice(start, start + 6);
      results.push(...(await Promise.all(batch.map(async (name) => ({ name, result: await user.deis(['help', name]) })))));
    }
    for (const { name, result } of results) {
      expect(result.code, name).toBe(0);
      const file = join(GOLDEN_DIR, `${name.replace(':', '_')}.txt`);
      if (update) writeFileSync(file, result.stdout);
      else expect(result.stdout, `${name} (rerun with UPDATE_GOLDEN=1 if the change is intended)`).toBe(readFileSync(file, 'utf8'));
    }
    const overview = await user.deis(['help']);
    const overviewFile = join(GOLDEN_DIR, 'deis.txt');
    if (update) writeFileSync(overviewFile, overview.stdout);
    else expect(overview.stdout, 'deis help (rerun with UPDATE_GOLDEN=1 if the change is intended)').toBe(readFileSync(overviewFile, 'utf8'));
    expect(readdirSync(GOLDEN_DIR).length).toBe(commands.length + 1);
  }, 60_000);

  it('shows the same help for `deis help <cmd>`, `<cmd> -h`, `<cmd> --help` and shortcuts', async () => {
    const user = newCliUser();
    const reference = (await user.deis(['help', 'apps:create'])).stdout;
    expect(reference).toContain('Usage: deis apps:create [options] [<id>]');
    expect((await user.deis(['apps:create', '-h'])).stdout).toBe(reference);
    expect((await user.deis(['create', '--help'])).stdout).toBe(reference);
    expect((await user.deis(['help', 'create'])).stdout).toBe(reference);
    const topic = await user.deis(['help', 'config']);
    expect(topic.stdout).toMatch(/^Valid commands for config:\n\nconfig:list +Lists environment variables/);
    expect(topic.stdout).toContain('config:push');
    expect((await user.deis(['help', 'git'])).stdout).toContain('git:remote');
    expect((await user.deis(['config', '--help'])).stdout).toBe((await user.deis(['help', 'config:list'])).stdout);
  });
});

describe('usage errors and exit codes', () => {
  it('exits 2 for an unknown flag, a missing argument, an extra argument, or an unknown command', async () => {
    const user = newCliUser();
    const flag = await user.deis(['apps:list', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^Error: Unknown option '--bogus'/);
    expect(flag.stderr).toContain("See 'deis help apps:list'.");
    const missing = await user.deis(['domains:add']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Error: <domain> is required.');
    const extra = await user.deis(['apps:info', 'one', 'two']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("Unexpected argument 'one'");
    const unknown = await user.deis(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Error: 'frobnicate' is not a valid command.");
    expect(unknown.stdout).toBe('');
  });

  it('exits 3 when not logged in, with a hint', async () => {
    const result = await newCliUser().deis(['apps']);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe("Error: Not logged in.\nRun 'deis login <controller>' or 'deis register <controller>' first.\n");
  });

  it('prints no stack trace unless DEIS_DEBUG is set', async () => {
    const user = newCliUser();
    expect((await user.deis(['apps'])).stderr).not.toContain('    at ');
    expect((await user.deis(['apps'], { env: { DEIS_DEBUG: '1' } })).stderr).toContain('    at ');
  });

  it('prints the version', async () => {
    const user = newCliUser();
    expect((await user.deis(['--version'])).stdout).toMatch(/^v\d+\.\d+\.\d+\n$/);
    expect((await user.deis(['version'])).stdout).toBe((await user.deis(['-v'])).stdout);
  });

  it('lists the shortcuts', async () => {
    const out = await newCliUser().deis(['shortcuts']);
    expect(out.stdout).toContain('create -> apps:create');
    expect(out.stdout).toContain('pull -> builds:create');
    expect(out.stdout).toContain('sharing:add -> perms:create');
  });
});

describe('plugins', () => {
  it('runs deis-<name> from PATH with the remaining arguments and its exit code', async () => {
    const user = newCliUser();
    const bin = join(user.home, 'bin');
    mkdirSync(bin);
    const plugin = join(bin, 'deis-hello');
    writeFileSync(plugin, '#!/bin/sh\necho "hello from plugin: $*"\nexit 4\n');
    chmodSync(plugin, 0o755);
    const result = await user.deis(['hello', 'one', '--two'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(result.stdout).toBe('hello from plugin: one --two\n');
    expect(result.code).toBe(4);
  });
});

describe('completion', () => {
  it('prints bash and zsh scripts naming the commands and their flags', async () => {
    const user = newCliUser();
    const bash = await user.deis(['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -F _deis deis');
    expect(bash.stdout).toMatch(/apps:create\|create\) flags="[^"]*--no-remote/);
    const syntax = await import('node:child_process').then(({ spawnSync }) => spawnSync('bash', ['-n'], { input: bash.stdout }));
    expect(syntax.status).toBe(0);
    const zsh = await user.deis(['completion', 'zsh']);
    expect(zsh.stdout).toContain('#compdef deis');
    expect(zsh.stdout).toContain("'apps\\:create:Creates a new application.'");
    expect((await user.deis(['completion', 'fish'])).code).toBe(2);
  });
});

describe('terminal output', () => {
  const ESC = String.fromCharCode(27);
  // script(1) gives the CLI a pseudo-terminal, as a person's shell would.
  const onTerminal = (env: NodeJS.ProcessEnv) => runProgram('script', ['-qc', `${process.execPath} ${CLI_PATH} apps`, '/dev/null'], { cwd: REPO_ROOT, env });

  it('colours the Error prefix on a terminal, and not with NO_COLOR or when piped', async () => {
    const user = newCliUser({ NO_COLOR: undefined });
    expect((await onTerminal(user.env)).stdout).toContain(`${ESC}[31mError:${ESC}[0m Not logged in.`);
    expect((await onTerminal({ ...user.env, NO_COLOR: '1' })).stdout).not.toContain(ESC);
    expect((await user.deis(['apps'])).stderr).toBe("Error: Not logged in.\nRun 'deis login <controller>' or 'deis register <controller>' first.\n");
  });
});
