/**
 * The one-line summary of what a release changed, in the words Deis clients show (`releases:list`) and tests compare:
 * `alice deployed 1a2b3c4`, `alice added FOO, BAR and alice changed limits for memory`, …
 * An empty summary means nothing changed, which callers turn into 409 "changed nothing".
 * @module
 */
import type { ConfigData } from '../config/config-data.ts';

export interface SummaryBuild {
  uuid: string;
  image: string;
  sha: string;
}

export interface SummarySide {
  build: SummaryBuild | null;
  config: ConfigData;
}

interface DictDiff {
  added: string[];
  changed: string[];
  deleted: string[];
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function dictDiff(next: Record<string, unknown>, previous: Record<string, unknown>): DictDiff {
  return {
    added: Object.keys(next).filter((k) => !(k in previous)),
    changed: Object.keys(next).filter((k) => k in previous && !sameValue(next[k], previous[k])),
    deleted: Object.keys(previous).filter((k) => !(k in next)),
  };
}

function isEmpty(diff: DictDiff): boolean {
  return diff.added.length + diff.changed.length + diff.deleted.length === 0;
}

/** `added A, B, changed C` with the given noun after each verb (`tag`, `registry info`, …). */
function describe(diff: DictDiff, noun: string): string {
  const part = (verb: string, keys: string[]) => (keys.length ? `${verb}${noun ? ` ${noun}` : ''} ${keys.join(', ')}` : '');
  return [part('added', diff.added), part('changed', diff.changed), part('deleted', diff.deleted)].filter(Boolean).join(', ');
}

/**
 * @param username who made the release: Deis names the build's and the config's owner, which is always the caller here.
 * @param previous the latest good release, or null for the app's first release.
 */
export function summarizeRelease(username: string, next: SummarySide, previous: SummarySide | null): string {
  const parts: string[] = [];
  if (previous === null) return `${username} created initial release`;
  if (next.build && next.build.uuid !== previous.build?.uuid) {
    parts.push(`${username} deployed ${next.build.sha ? next.build.sha.slice(0, 7) : next.build.image}`);
  }
  const before = previous.config;
  const after = next.config;
  const values = describe(dictDiff(after.values, before.values), '');
  if (values) parts.push(`${username} ${values}`);
  const limits = (['memory', 'cpu'] as const).filter((kind) => !isEmpty(dictDiff(after[kind], before[kind])));
  if (limits.length) parts.push(`${username} changed limits for ${limits.join(', ')}`);
  const tags = describe(dictDiff(after.tags, before.tags), 'tag');
  if (tags) parts.push(`${username} ${tags}`);
  const registry = describe(dictDiff(after.registry, before.registry), 'registry info');
  if (registry) parts.push(`${username} ${registry}`);
  const healthcheck = describe(dictDiff(after.healthcheck, before.healthcheck), 'healthcheck info for proc type');
  if (healthcheck) parts.push(`${username} ${healthcheck}`);
  return parts.join(' and ');
}
