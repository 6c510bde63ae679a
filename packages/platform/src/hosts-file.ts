/**
 * Keeps the platform's own host names in /etc/hosts, in a block it owns, so that `deis.localhost` and
 * `deis-builder.localhost` resolve on a machine without DNS (ADR 0004). Apps' names need no entry: the CLI, curl and
 * browsers resolve `*.localhost` to loopback themselves.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';

const BEGIN = '# BEGIN deis platform (managed by ./platform up)';
const END = '# END deis platform';

/** The file's text with our block replaced by one naming `names` (or removed, for an empty list). */
export function withPlatformHosts(text: string, names: string[]): string {
  const kept: string[] = [];
  let inside = false;
  for (const line of text.split('\n')) {
    if (line === BEGIN) inside = true;
    else if (line === END) inside = false;
    else if (!inside) kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  const block = names.length === 0 ? [] : [BEGIN, `127.0.0.1 ${names.join(' ')}`, END];
  return `${[...kept, ...block].join('\n')}\n`;
}

/** Rewrites /etc/hosts only when the block changes; returns whether it did. */
export function ensurePlatformHosts(names: string[], path = '/etc/hosts'): boolean {
  const current = readFileSync(path, 'utf8');
  const next = withPlatformHosts(current, names);
  if (next === current) return false;
  writeFileSync(path, next);
  return true;
}
