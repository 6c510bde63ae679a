/**
 * Help text made from the command specs (the same specs the parser uses, so help and behaviour cannot disagree).
 * @module
 */
import type { CommandSpec, OptionSpec } from './command-spec.ts';

export const APP_OPTION: OptionSpec = { type: 'string', short: 'a', valueName: '<app>', description: 'the uniquely identifiable name for the application (default: the app of the git remote deis).' };
export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print the result as JSON on stdout (and nothing else on stdout).' };
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help.' };

/** Every option a command accepts, its own first, then -a, --json and -h in that order. */
export function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return {
    ...spec.options,
    ...(spec.app ? { app: APP_OPTION } : {}),
    ...(spec.json ? { json: JSON_OPTION } : {}),
    help: HELP_OPTION,
  };
}

export function usageLine(spec: CommandSpec): string {
  const args = (spec.args ?? []).map((arg) => {
    const name = `<${arg.name}>${arg.variadic ? '...' : ''}`;
    return arg.required ? name : `[${name}]`;
  });
  return ['deis', spec.name, '[options]', ...(spec.rawArgs ? ['[--]'] : []), ...args].join(' ');
}

function optionLabel(name: string, option: OptionSpec): string {
  const long = option.type === 'string' ? `--${name}=${option.valueName ?? `<${name}>`}` : `--${name}`;
  return option.short ? `-${option.short} ${long}` : long;
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [spec.summary, ''];
  if (spec.details) lines.push(spec.details, '');
  lines.push(`Usage: ${usageLine(spec)}`, '');
  if (spec.args?.length) {
    lines.push('Arguments:');
    for (const arg of spec.args) lines.push(`  <${arg.name}>`, `    ${arg.description}`);
    lines.push('');
  }
  lines.push('Options:');
  for (const [name, option] of Object.entries(allOptions(spec))) lines.push(`  ${optionLabel(name, option)}`, `    ${option.description}`);
  return `${lines.join('\n')}\n`;
}

export function topicHelp(topic: string, specs: CommandSpec[]): string {
  const width = Math.max(...specs.map((spec) => spec.name.length));
  const lines = [`Valid commands for ${topic}:`, ''];
  for (const spec of specs) lines.push(`${spec.name.padEnd(width)}  ${spec.summary}`);
  lines.push('', `Use 'deis help [command]' to learn more.`);
  return `${lines.join('\n')}\n`;
}

export function overviewHelp(specs: CommandSpec[], version: string): string {
  const topics = new Map<string, CommandSpec[]>();
  for (const spec of specs) {
    const topic = spec.name.split(':')[0]!;
    topics.set(topic, [...(topics.get(topic) ?? []), spec]);
  }
  const width = Math.max(...specs.map((spec) => spec.name.length));
  const lines = [
    `The Deis command-line client issues API calls to a Deis controller. (${version})`,
    '',
    'Usage: deis <command> [<args>...]',
    '',
    'Options:',
    '  -h --help              display help information',
    '  -v --version           display client version',
    '  -c --config=<config>   path to the configuration file, or a profile name in ~/.deis [default: $DEIS_PROFILE or client]',
  ];
  for (const [topic, group] of topics) {
    lines.push('', `${topic}:`);
    for (const spec of group) lines.push(`  ${spec.name.padEnd(width)}  ${spec.summary}`);
  }
  lines.push(
    '',
    "Use 'deis shortcuts' to see all shortcut aliases, and 'deis help <command>' for a command's options.",
    'Every command that prints data takes --json. Exit codes: 0 ok, 1 failure, 2 usage error, 3 not logged in.',
    'An unknown command <name> runs the plugin deis-<name> from your PATH.',
  );
  return `${lines.join('\n')}\n`;
}
