/**
 * Reads a Procfile (`<type>: <command>` per line, the simple YAML subset Procfiles use) into the map the build hook takes.
 * @module
 */

const PROCESS_TYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export class ProcfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcfileError';
  }
}

function unquote(value: string): string {
  if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
    return value.slice(1, -1);
  }
  return value;
}

export function parseProcfile(text: string): Record<string, string> {
  const procfile: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([^:\s]+)\s*:\s*(.*)$/.exec(line);
    if (!match?.[1]) throw new ProcfileError(`Procfile line ${index + 1} is not "<type>: <command>"`);
    const type = match[1];
    const command = unquote((match[2] ?? '').trim());
    if (!PROCESS_TYPE.test(type)) throw new ProcfileError(`Procfile type "${type}" must be lowercase letters, digits and hyphens`);
    if (command === '') throw new ProcfileError(`Procfile type "${type}" has no command`);
    procfile[type] = command;
  }
  return procfile;
}
