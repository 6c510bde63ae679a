/**
 * Reading and writing `.env` files for `config:pull` and `config:push`: `KEY=value` lines, `#` comments, blank
 * lines, an optional `export ` prefix and optional quotes around the value.
 * @module
 */

export class DotenvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DotenvError';
  }
}

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

/** Throws DotenvError naming the first malformed line (1-based). */
export function parseDotenv(text: string, source = '.env'): Record<string, string> {
  const values: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const match = LINE.exec(line.trim());
    if (!match) throw new DotenvError(`${source} line ${index + 1}: '${line}' does not match the pattern 'KEY=value', e.g. MODE=test`);
    values[match[1]!] = unquote(match[2]!);
  });
  return values;
}

/** One `KEY=value` line per key, sorted; values with newlines or surrounding spaces are double-quoted. */
export function formatDotenv(values: Record<string, string>): string {
  return Object.keys(values)
    .sort()
    .map((key) => {
      const value = values[key]!;
      const needsQuotes = /[\n"]/.test(value) || value !== value.trim();
      return `${key}=${needsQuotes ? `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"` : value}`;
    })
    .map((line) => `${line}\n`)
    .join('');
}
