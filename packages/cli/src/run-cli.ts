/**
 * The CLI's entry: global flags, help, shortcuts, plugins (`deis foo` runs `deis-foo`), parsing a command's flags and
 * arguments with node:util parseArgs, running it, and reporting any failure with the right exit code.
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './cli-errors.ts';
import { createContext } from './command-context.ts';
import type { CliIO } from './command-context.ts';
import type { CommandInput, CommandSpec, OptionSpec, OptionValues } from './command-spec.ts';
import { commandsOfTopic, COMMANDS, findCommand } from './command-table.ts';
import { reportError } from './error-report.ts';
import { allOptions, commandHelp, overviewHelp, topicHelp } from './help-text.ts';
import { CLI_VERSION } from './version.ts';

function findPlugin(name: string, env: NodeJS.ProcessEnv): string | null {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) return null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, `deis-${name}`);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

async function runPlugin(path: string, args: string[], io: CliIO): Promise<number> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(path, args, { stdio: 'inherit', env: io.env, cwd: io.cwd });
    child.on('error', (error) => {
      io.stderr.write(`Error: could not run ${path}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

/** `run`'s command may contain anything, flags included: only leading -a/--app/--json/-h are ours. */
function parseRawArgs(args: string[]): CommandInput {
  const values: OptionValues = {};
  let index = 0;
  for (; index < args.length; index++) {
    const token = args[index]!;
    if (token === '--') {
      index++;
      break;
    }
    if (token === '-a' || token === '--app') {
      if (args[index + 1] === undefined) throw new UsageError(`Option '${token}' needs a value`);
      values.app = args[++index];
    } else if (token.startsWith('--app=')) values.app = token.slice(6);
    else if (/^-a./.test(token)) values.app = token.slice(2);
    else if (token === '--json') values.json = true;
    else if (token === '--detached') values.detached = true;
    else if (token === '-h' || token === '--help') values.help = true;
    else break;
  }
  return { values, positionals: args.slice(index) };
}

function parseCommandArgs(spec: CommandSpec, args: string[]): CommandInput {
  if (spec.rawArgs) return parseRawArgs(args);
  const accepted: Record<string, OptionSpec> = { ...allOptions(spec), config: { type: 'string', description: '' } };
  const options = Object.fromEntries(
    Object.entries(accepted).map(([name, option]) => [
      name,
      { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, '.'), `See 'deis help ${spec.name}'.`);
  }
  const values = { ...parsed.values } as OptionValues;
  for (const [name, option] of Object.entries(spec.options ?? {})) if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
  return { values, positionals: parsed.positionals };
}

function checkPositionals(spec: CommandSpec, input: CommandInput): void {
  const specs = spec.args ?? [];
  specs.forEach((arg, index) => {
    if (arg.required && input.positionals.length <= index) throw new UsageError(`<${arg.name}> is required.`, `Usage: ${commandHelp(spec).split('\n').find((line) => line.startsWith('Usage:'))!.slice(7)}`);
  });
  const variadic = specs.some((arg) => arg.variadic);
  if (!variadic && input.positionals.length > specs.length) {
    throw new UsageError(`Unexpected argument '${input.positionals[specs.length]}'.`, `See 'deis help ${spec.name}'.`);
  }
}

async function runCommand(spec: CommandSpec, args: string[], io: CliIO, configFlag: string | undefined): Promise<number> {
  const input = parseCommandArgs(spec, args);
  if (input.values.help === true) {
    io.stdout.write(commandHelp(spec));
    return 0;
  }
  checkPositionals(spec, input);
  const context = createContext(io, { json: input.values.json === true, configFlag: typeof input.values.config === 'string' ? input.values.config : configFlag });
  return (await spec.run(context, input)) ?? 0;
}

function help(topic: string | undefined, io: CliIO): number {
  if (!topic) {
    io.stdout.write(overviewHelp([...COMMANDS], CLI_VERSION));
    return 0;
  }
  // A bare topic (`deis help ps`) lists the topic's commands, although `deis ps` runs ps:list.
  const group = topic.includes(':') ? [] : commandsOfTopic(topic);
  if (group.length > 0) {
    io.stdout.write(topicHelp(topic, group));
    return 0;
  }
  const spec = findCommand(topic);
  if (spec) {
    io.stdout.write(commandHelp(spec));
    return 0;
  }
  throw new UsageError(`'${topic}' is not a valid command.`, "See 'deis help'.");
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  try {
    let configFlag: string | undefined;
    let index = 0;
    for (; index < argv.length; index++) {
      const token = argv[index]!;
      if (token === '-c' || token === '--config') {
        configFlag = argv[++index];
        if (configFlag === undefined) throw new UsageError(`Option '${token}' needs a value.`);
      } else if (token.startsWith('--config=')) configFlag = token.slice(9);
      else if (token === '-h' || token === '--help') return help(undefined, io);
      else if (token === '-v' || token === '--version') {
        io.stdout.write(`${CLI_VERSION}\n`);
        return 0;
      } else if (token.startsWith('-')) throw new UsageError(`Unknown option '${token}'.`, "See 'deis help'.");
      else break;
    }
    const command = argv[index];
    const rest = argv.slice(index + 1);
    if (command === undefined) return help(undefined, io);
    if (command === 'help') return help(rest[0], io);
    const spec = findCommand(command);
    if (spec) return await runCommand(spec, rest, io, configFlag);
    const plugin = findPlugin(command, io.env);
    if (plugin) return await runPlugin(plugin, rest, io);
    if (commandsOfTopic(command).length > 0) return help(command, io);
    throw new UsageError(`'${command}' is not a valid command.`, "See 'deis help' for a list of commands.");
  } catch (error) {
    const report = reportError(error);
    // Red only where a person reads it: a terminal, without NO_COLOR.
    const red = (io.stderr as { isTTY?: boolean }).isTTY && !('NO_COLOR' in io.env) && io.env.TERM !== 'dumb';
    io.stderr.write(`${red ? '\x1b[31mError:\x1b[0m' : 'Error:'} ${report.message}\n`);
    if (report.hint) io.stderr.write(`${report.hint}\n`);
    if (io.env.DEIS_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return report.exitCode;
  }
}
