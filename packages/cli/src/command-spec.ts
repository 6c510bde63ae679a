/**
 * The shape of one command: its name, help, flags and arguments (from which the parser and the help text are both
 * made), and what it does.
 * @module
 */
import type { CommandContext } from './command-context.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** Shown in help as `--name=<valueName>`. */
  valueName?: string;
  description: string;
}

export interface ArgSpec {
  name: string;
  required?: boolean;
  /** Takes every remaining argument. */
  variadic?: boolean;
  description: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandInput {
  values: OptionValues;
  positionals: string[];
}

export interface CommandSpec {
  /** `topic:action`, e.g. `apps:create` */
  name: string;
  summary: string;
  /** Extra paragraphs after the summary. */
  details?: string;
  args?: ArgSpec[];
  options?: Record<string, OptionSpec>;
  /** Takes `-a --app` and works on one app. */
  app?: boolean;
  /** Prints data and so takes `--json`. */
  json?: boolean;
  /** Reads its own argv after the command name (for `run`, whose command may look like flags). */
  rawArgs?: boolean;
  /** Returns the exit code; undefined means 0. */
  run(ctx: CommandContext, input: CommandInput): Promise<number | void>;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flagOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}
