/**
 * `config:*`: the app's environment variables: list, set, unset, and the `.env` round trip (pull, push).
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '@deis/sdk/types';
import { getConfig, postConfig } from '../app-config.ts';
import { CliError } from '../cli-errors.ts';
import type { CommandContext, Session } from '../command-context.ts';
import { flagOption, stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { DotenvError, formatDotenv, parseDotenv } from '../dotenv.ts';
import { alignedPairs, parseKeyValues } from '../key-value-args.ts';

const SSH_PRIVATE_KEY = /^-----BEGIN (DSA|RSA|EC|OPENSSH) PRIVATE KEY-----/;

/** SSH_KEY may be a private key, its base64 (as config:pull wrote it) or a path to one; the controller stores base64. */
function encodeSshKey(value: string, cwd: string): string {
  if (SSH_PRIVATE_KEY.test(value)) return Buffer.from(value).toString('base64');
  if (SSH_PRIVATE_KEY.test(Buffer.from(value, 'base64').toString())) return value;
  const path = resolve(cwd, value);
  if (existsSync(path)) {
    const contents = readFileSync(path, 'utf8');
    if (SSH_PRIVATE_KEY.test(contents)) return Buffer.from(contents).toString('base64');
  }
  throw new CliError('Could not parse SSH_KEY as an SSH private key (give the key, its base64, or a path to it).');
}

function printConfig(ctx: CommandContext, app: string, config: Config, format: 'table' | 'oneline' | 'diff'): void {
  const values = config.values ?? {};
  const keys = Object.keys(values).sort();
  if (format === 'oneline') {
    ctx.say(keys.map((key) => `${key}=${values[key]}`).join(' '));
  } else if (format === 'diff') {
    for (const key of keys) ctx.say(`${key}=${values[key]}`);
  } else {
    ctx.say(`=== ${app} Config`);
    for (const line of alignedPairs(values)) ctx.say(line);
  }
}

/** The app's config as it now is: its values under --json, else printed in the given format. */
async function showConfig(ctx: CommandContext, session: Session, app: string, format: 'table' | 'oneline' | 'diff' = 'table'): Promise<void> {
  const config = await getConfig(session, app);
  if (ctx.json) return void ctx.emit(config.values ?? {});
  printConfig(ctx, app, config, format);
}

async function setValues(ctx: CommandContext, session: Session, app: string, values: Record<string, string>): Promise<Config> {
  if ('SSH_KEY' in values) values.SSH_KEY = encodeSshKey(values.SSH_KEY!, ctx.io.cwd);
  if (Object.keys(values).some((key) => key.startsWith('HEALTHCHECK_'))) {
    ctx.say("Hey there! We've noticed that you're using 'deis config:set HEALTHCHECK_URL'\nto set up healthchecks. This functionality has been deprecated. In the future, please use\n'deis healthchecks' to set up application health checks. Thanks!");
  }
  const config = await ctx.progress('Creating config... ', () => postConfig(session, app, { values }), (result) => {
    const release = result.values?.WORKFLOW_RELEASE;
    return release ? `done, ${release}\n` : 'done\n';
  });
  return config;
}

function readDotenv(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    return parseDotenv(text, path);
  } catch (error) {
    if (error instanceof DotenvError) throw new CliError(error.message, { hint: 'Each line must be KEY=value; lines starting with # are comments.' });
    throw error;
  }
}

export const configCommands: CommandSpec[] = [
  {
    name: 'config:list',
    summary: 'Lists environment variables for an application.',
    app: true,
    json: true,
    options: {
      oneline: { type: 'boolean', description: 'print output on one line.' },
      diff: { type: 'boolean', description: 'print output in KEY=value lines, ready to compare.' },
    },
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      await showConfig(ctx, session, app, flagOption(values, 'oneline') ? 'oneline' : flagOption(values, 'diff') ? 'diff' : 'table');
    },
  },
  {
    name: 'config:set',
    summary: 'Sets environment variables for an application.',
    details: 'SSH_KEY may be a private key, its base64, or a path to the key file; it is sent base64-encoded.',
    args: [{ name: 'var=value', required: true, variadic: true, description: 'the uniquely identifiable name for the environment variable, and its value.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const pairs = parseKeyValues(positionals, /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/, 'MODE=test');
      const { session, app } = await ctx.appSession(values);
      await setValues(ctx, session, app, pairs);
      await showConfig(ctx, session, app);
    },
  },
  {
    name: 'config:unset',
    summary: 'Unsets environment variables for an application.',
    args: [{ name: 'key', required: true, variadic: true, description: 'the variable to remove from the application\'s environment.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const nulls = Object.fromEntries(positionals.map((key) => [key, null]));
      await ctx.progress('Removing config... ', () => postConfig(session, app, { values: nulls }), () => 'done\n');
      await showConfig(ctx, session, app);
    },
  },
  {
    name: 'config:pull',
    summary: "Extracts the application's environment variables into a local .env file.",
    app: true,
    options: {
      interactive: { type: 'boolean', short: 'i', description: 'prompts for each value to be overwritten.' },
      overwrite: { type: 'boolean', short: 'o', description: 'allows you to have the .env file overwritten.' },
      path: { type: 'string', short: 'p', valueName: '<path>', default: '.env', description: 'the file to write. [default: .env]' },
    },
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const remote = (await getConfig(session, app)).values ?? {};
      const path = resolve(ctx.io.cwd, stringOption(values, 'path') ?? '.env');
      const exists = existsSync(path);
      const interactive = flagOption(values, 'interactive');
      if (exists && !flagOption(values, 'overwrite') && !interactive) {
        throw new CliError(`${stringOption(values, 'path') ?? '.env'} already exists, pass -o to overwrite`);
      }
      let merged = remote;
      if (interactive && exists) {
        merged = readDotenv(path);
        for (const key of Object.keys(remote).sort()) {
          if (!(key in merged)) merged[key] = remote[key]!;
          else if (merged[key] !== remote[key]) {
            const answer = await ctx.ask(`${key}: overwrite ${merged[key]} with ${remote[key]}? (y/N) `);
            if (answer.toLowerCase() === 'y') merged[key] = remote[key]!;
          }
        }
      }
      writeFileSync(path, formatDotenv(merged), { mode: 0o600 });
      ctx.say(`Config for ${app} written to ${stringOption(values, 'path') ?? '.env'}`);
    },
  },
  {
    name: 'config:push',
    summary: 'Sets environment variables for an application from a .env file.',
    details: "Reads KEY=value lines from the file (default .env); '#' comments and blank lines are skipped.",
    app: true,
    json: true,
    options: { path: { type: 'string', short: 'p', valueName: '<path>', default: '.env', description: 'a path leading to an environment file. [default: .env]' } },
    async run(ctx, { values }) {
      const file = stringOption(values, 'path') ?? '.env';
      const pairs = readDotenv(resolve(ctx.io.cwd, file));
      if (Object.keys(pairs).length === 0) throw new CliError(`${file} sets no variables.`);
      const { session, app } = await ctx.appSession(values);
      await setValues(ctx, session, app, pairs);
      await showConfig(ctx, session, app);
    },
  },
];
