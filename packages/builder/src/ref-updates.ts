/**
 * The ref updates git hands a pre-receive hook on stdin (`<old> <new> <ref>` per line), and which of them to build.
 * @module
 */
import { isFullSha } from './git-objects.ts';

export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

const ZERO_SHA = '0'.repeat(40);

export function parseRefUpdates(text: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of text.split('\n')) {
    const [oldSha, newSha, ref] = line.trim().split(/\s+/);
    if (oldSha && newSha && ref && isFullSha(oldSha) && isFullSha(newSha)) updates.push({ oldSha, newSha, ref });
  }
  return updates;
}

/** The update to build: the last one that does not delete its ref; null when the push only deletes. */
export function updateToBuild(updates: RefUpdate[]): RefUpdate | null {
  return updates.filter((update) => update.newSha !== ZERO_SHA).at(-1) ?? null;
}
