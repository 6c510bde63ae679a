/**
 * An app's recent log: what its containers printed and the controller's events about it, merged by time, in the
 * Deis logger's line format (contract §6.6): `<time> <app>[<type>.<vN>.<pod suffix>]: <line>` and
 * `<time> deis[controller]: INFO <message>`.
 * @module
 */
import type { ControllerDeps } from '../deps.ts';
import { recentEvents } from '../events/event-log.ts';
import { LABEL, RUN_TYPE } from '../formation/container-spec.ts';
import { podSuffix } from '../formation/pod-names.ts';
import { detachedRunLines } from '../formation/detached-run.ts';

export const DEFAULT_LOG_LINES = 100;
/** More than any client asks for; bounds the work of one request. */
export const MAX_LOG_LINES = 10_000;

/** `2016-09-01T12:00:00+00:00`, the logger's timestamp. */
function logTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** `?log_lines=N`; absent or unreadable gives the default. */
export function logLineCount(raw: unknown): number {
  const count = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : DEFAULT_LOG_LINES;
  return Math.min(Math.max(count, 1), MAX_LOG_LINES);
}

interface TimedLine {
  at: number;
  text: string;
}

/** The newest `count` lines, oldest first. Scheduler errors propagate: the route answers them. */
export async function appLogLines(deps: ControllerDeps, app: { uuid: string; id: string }, count: number): Promise<string[]> {
  const containers = await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName, [LABEL.app]: app.id });
  const perContainer = await Promise.all(
    containers
      .filter((container) => container.labels[LABEL.type] !== RUN_TYPE)
      .map(async (container) => {
        const tag = `${container.labels[LABEL.type] ?? ''}.${container.labels[LABEL.release] ?? ''}.${podSuffix(container.name)}`;
        const output = await deps.scheduler.logs(container.name, count);
        return output.map((line): TimedLine => ({ at: line.time.getTime(), text: `${logTime(line.time)} ${app.id}[${tag}]: ${line.text}` }));
      }),
  );
  const lines: TimedLine[] = perContainer.flat();
  for (const event of await recentEvents(deps.db, app.uuid, count)) lines.push({ at: new Date(event.created).getTime(), text: event.line });
  // Detached runs' containers are gone once they end; their lines are kept apart (formation/detached-run.ts).
  for (const line of detachedRunLines(deps, app.uuid, count)) lines.push({ at: line.time.getTime(), text: `${logTime(line.time)} ${app.id}[${line.tag}]: ${line.text}` });
  // A stable sort keeps each container's own order among lines of the same instant.
  lines.sort((a, b) => a.at - b.at);
  return lines.slice(-count).map((line) => line.text);
}
