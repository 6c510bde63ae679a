/**
 * Containers that exit on their own are restarted in place (same name, same output so far), as Kubernetes restarts a
 * crashed container in its pod, after an exponential back-off: the first restart soon, each further exit within
 * CRASH_WINDOW_MS doubling the wait up to a cap (Kubernetes' CrashLoopBackOff). Meanwhile the container shows as
 * `crashed` (or `down`) in `deis ps` with its restart count. This module keeps the counts and the waits; the
 * reconciler does the restarts, under the app's lock. Memory only: after a platform restart the counts begin again.
 * @module
 */
import type { Scheduler } from '@deis/scheduler/scheduler';
import type { ControllerDeps } from '../deps.ts';

/** How long an exit counts towards a container's back-off; one that ran longer starts again from the first wait. */
export const CRASH_WINDOW_MS = 5 * 60 * 1000;
/** The longest wait before a crash-looping container is restarted again (Kubernetes' cap). */
export const MAX_RESTART_DELAY_MS = 5 * 60 * 1000;

interface CrashRecord {
  appId: string;
  /** Restarts in place so far. */
  restarts: number;
  /** When it exited, within the window. */
  exits: number[];
  /** Set from an exit until the restart: when the restart may happen. */
  dueAt: number | null;
}

const records = new WeakMap<Scheduler, Map<string, CrashRecord>>();

function recordsOf(deps: Pick<ControllerDeps, 'scheduler'>): Map<string, CrashRecord> {
  let map = records.get(deps.scheduler);
  if (!map) records.set(deps.scheduler, (map = new Map()));
  return map;
}

function recordOf(deps: Pick<ControllerDeps, 'scheduler'>, name: string, appId: string): CrashRecord {
  const map = recordsOf(deps);
  let record = map.get(name);
  if (!record) map.set(name, (record = { appId, restarts: 0, exits: [], dueAt: null }));
  return record;
}

/** The wait before the restart after the `exits`-th exit in the window: `firstMs`, doubling, at most `maxMs`. */
export function restartDelay(exits: number, firstMs: number, maxMs = MAX_RESTART_DELAY_MS): number {
  return Math.min(firstMs * 2 ** Math.min(Math.max(exits - 1, 0), 30), Math.max(maxMs, firstMs));
}

/** Notes that the container exited on its own; returns how long until it may be restarted. */
export function noteExit(deps: Pick<ControllerDeps, 'scheduler'>, name: string, appId: string, firstDelayMs: number, maxDelayMs = MAX_RESTART_DELAY_MS): number {
  const record = recordOf(deps, name, appId);
  const now = Date.now();
  // An exit already noted (the engine's event, then a pass that saw it) waits no longer than it did.
  if (record.dueAt !== null) return Math.max(0, record.dueAt - now);
  record.exits = record.exits.filter((at) => now - at < CRASH_WINDOW_MS);
  record.exits.push(now);
  const delay = restartDelay(record.exits.length, firstDelayMs, maxDelayMs);
  record.dueAt = now + delay;
  return delay;
}

/**
 * Whether an exited container may be restarted now. An exit not noted yet (a pass saw it before the engine's event,
 * or it exited while the platform was down) is noted now, so its wait begins now.
 */
export function restartDue(deps: Pick<ControllerDeps, 'scheduler'>, name: string, appId: string, firstDelayMs: number): boolean {
  const record = recordsOf(deps).get(name);
  if (!record || record.dueAt === null) return noteExit(deps, name, appId, firstDelayMs) === 0;
  return Date.now() >= record.dueAt;
}

/**
 * A container seen running since its last noted exit (restarted by someone else, or the exit was noted from an older
 * event) has no restart waiting. A listing older than the exit says nothing, hence `startedAt`.
 */
export function noteRunning(deps: Pick<ControllerDeps, 'scheduler'>, name: string, startedAt: Date | null): void {
  const record = recordsOf(deps).get(name);
  const lastExit = record?.exits.at(-1);
  if (record && record.dueAt !== null && startedAt && lastExit !== undefined && startedAt.getTime() > lastExit) record.dueAt = null;
}

export function noteRestarted(deps: Pick<ControllerDeps, 'scheduler'>, name: string, appId: string): number {
  const record = recordOf(deps, name, appId);
  record.restarts += 1;
  record.dueAt = null;
  return record.restarts;
}

/** How often the platform has restarted the container in place. */
export function restartCount(deps: Pick<ControllerDeps, 'scheduler'>, name: string): number {
  return recordsOf(deps).get(name)?.restarts ?? 0;
}

/** Milliseconds until the app's next restart is due, or null when none waits. */
export function nextRestartDue(deps: Pick<ControllerDeps, 'scheduler'>, appId: string): number | null {
  let next: number | null = null;
  for (const record of recordsOf(deps).values()) {
    if (record.appId !== appId || record.dueAt === null) continue;
    next = next === null ? record.dueAt : Math.min(next, record.dueAt);
  }
  return next === null ? null : Math.max(0, next - Date.now());
}

/** Drops what is known of the app's containers that no longer exist. */
export function forgetGone(deps: Pick<ControllerDeps, 'scheduler'>, appId: string, existing: ReadonlySet<string>): void {
  const map = recordsOf(deps);
  for (const [name, record] of map) if (record.appId === appId && !existing.has(name)) map.delete(name);
}
