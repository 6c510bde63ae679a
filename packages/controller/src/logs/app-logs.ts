/**
 * An app's recent log: the lines its containers and detached runs printed (the app log buffer, ADR 0012) and the
 * controller's events about it (the store), merged by time, in the Deis logger's
 * line format (contract §6.6): `<time> <app>[<type>.<vN>.<pod suffix>]: <line>` and
 * `<time> deis[controller]: INFO <message>`.
 * @module
 */
import type { ControllerDeps } from '../deps.ts';
import { recentEvents } from '../events/event-log.ts';
import type { TimedLine } from './log-buffer.ts';

export const DEFAULT_LOG_LINES = 100;
/** More than any client asks for; bounds the work of one request. */
export const MAX_LOG_LINES = 10_000;

/** `?log_lines=N`; absent or unreadable gives the default. */
export function logLineCount(raw: unknown): number {
  const count = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : DEFAULT_LOG_LINES;
  return Math.min(Math.max(count, 1), MAX_LOG_LINES);
}

/** The newest `count` lines, oldest first. */
export async function appLogLines(deps: ControllerDeps, app: { uuid: string; id: string }, count: number): Promise<string[]> {
  const lines: TimedLine[] = [...deps.logs.tail(app.id, count)];
  for (const event of await recentEvents(deps.db, app.uuid, count)) lines.push({ at: new Date(event.created).getTime(), text: event.line });
  // A stable sort keeps each source's own order among lines of the same instant.
  lines.sort((a, b) => a.at - b.at);
  return lines.slice(-count).map((line) => line.text);
}
