/**
 * Parsing `KEY=value` command arguments (config:set, tags:set, labels:set, registry:set, limits:set) with the usage
 * error the Deis CLI gives for a malformed one.
 * @module
 */
import { UsageError } from './cli-errors.ts';

export function parseKeyValues(args: string[], pattern: RegExp = /^([A-Za-z_][A-Za-z0-9_.\-/]*)=([\s\S]*)$/, example = 'KEY=value'): Record<string, string> {
  const values: Record<string, string> = {};
  for (const arg of args) {
    const match = pattern.exec(arg);
    if (!match) throw new UsageError(`'${arg}' does not match the pattern 'key=value', ex: ${example}`);
    values[match[1]!] = match[2]!;
  }
  return values;
}

/** Left-aligned two-column lines, the value column starting two spaces after the longest key. */
export function alignedPairs(pairs: Record<string, string>): string[] {
  const keys = Object.keys(pairs).sort();
  const width = Math.max(0, ...keys.map((key) => key.length));
  return keys.map((key) => `${key.padEnd(width)}  ${pairs[key]}`.trimEnd());
}
