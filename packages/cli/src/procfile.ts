/**
 * Reading a Procfile for `builds:create`: `type: command` lines (the YAML subset Procfiles use), or a JSON object.
 * @module
 */
import { CliError } from './cli-errors.ts';

export function parseProcfile(text: string, source: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
    } catch {
      throw new CliError(`${source} is not valid JSON`);
    }
  }
  const types: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const match = /^\s*([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(line);
    if (!match) throw new CliError(`${source} line ${index + 1}: '${line}' is not 'type: command'`);
    let command = match[2]!.trim();
    if ((command.startsWith('"') && command.endsWith('"')) || (command.startsWith("'") && command.endsWith("'"))) command = command.slice(1, -1);
    types[match[1]!] = command;
  });
  return types;
}
