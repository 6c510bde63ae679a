/**
 * What the controller knows about its containers beyond what the engine says: which new containers are not yet
 * ready and which old ones are on their way out (both kept out of the router's upstreams), and a lock per app so that
 * two deploys, scales, restarts or reconciliations of one app never interleave. One state per scheduler.
 * @module
 */
import type { Scheduler } from '@deis/scheduler/scheduler';
import { appLocksOf } from '../db/app-locks.ts';
import type { ControllerDeps } from '../deps.ts';

export interface FormationState {
  /** Started by a rollout, not yet ready: no traffic. */
  readonly notReady: Set<string>;
  /** Being replaced: no traffic, stopped once the router has moved on. */
  readonly draining: Set<string>;
  readonly locks: Map<string, Promise<void>>;
  /** How many holds of each app's lock have ended, to tell whether anyone held it since a given moment. */
  readonly locksReleased: Map<string, number>;
  /** Containers the platform itself stopped, with when: their exits are no crash (the engine reports them late). */
  readonly stoppedByUs: Map<string, number>;
}

/** How long a stop the platform made explains a container's exit event. */
const STOP_MEMORY_MS = 60_000;

/** Notes that the platform is stopping these containers, so their exits are not taken for crashes. */
export function noteStopping(deps: Pick<ControllerDeps, 'scheduler'>, names: string[]): void {
  const { stoppedByUs } = formationState(deps);
  const now = Date.now();
  for (const [name, at] of stoppedByUs) if (now - at > STOP_MEMORY_MS) stoppedByUs.delete(name);
  for (const name of names) stoppedByUs.set(name, now);
}

const states = new WeakMap<Scheduler, FormationState>();

export function formationState(deps: Pick<ControllerDeps, 'scheduler'>): FormationState {
  let state = states.get(deps.scheduler);
  if (!state) {
    state = { notReady: new Set(), draining: new Set(), locks: new Map(), locksReleased: new Map(), stoppedByUs: new Map() };
    states.set(deps.scheduler, state);
  }
  return state;
}

export interface AppLock {
  /** Keeps the lock after `work` has answered, until `until` settles (old containers still stopping). */
  holdUntil(until: Promise<unknown>): void;
}

/** The deps the app's lock needs: the store, when given, makes it hold for every controller on it (db/app-locks.ts). */
type LockDeps = Pick<ControllerDeps, 'scheduler'> & Partial<Pick<ControllerDeps, 'db'>>;

/**
 * Runs `work` once every earlier holder of the app's lock is done; the lock is keyed by app id (names are unique).
 * On a store other controllers share, it is also held against them, until `work` and whatever it holds until end.
 */
export async function withAppLock<T>(deps: LockDeps, appId: string, work: (lock: AppLock) => Promise<T>): Promise<T> {
  const { locks, locksReleased } = formationState(deps);
  const previous = locks.get(appId) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  locks.set(appId, tail);
  const held: Promise<unknown>[] = [];
  let releaseShared: (() => Promise<void>) | null = null;
  const ended = () => {
    locksReleased.set(appId, (locksReleased.get(appId) ?? 0) + 1);
    release();
    if (locks.get(appId) === tail) locks.delete(appId);
  };
  // Held against other controllers too: it goes to the next holder here once they may have it as well.
  const unlock = (): Promise<void> | void => (releaseShared ? releaseShared().catch(() => undefined).then(ended) : ended());
  await previous;
  try {
    // In one process (SQLite), the queue above is the whole lock.
    const shared = deps.db ? appLocksOf(deps.db) : null;
    if (shared?.shared) releaseShared = await shared.acquire(`formation:${appId}`);
  } catch (error) {
    await unlock();
    throw error;
  }
  try {
    return await work({ holdUntil: (until) => held.push(until.catch(() => undefined)) });
  } finally {
    if (held.length === 0) await unlock();
    else void Promise.all(held).then(unlock);
  }
}

/** Resolves once no rollout of the app runs or waits (tests, and callers that need the engine settled). */
export async function whenAppIdle(deps: LockDeps, appId: string): Promise<void> {
  await withAppLock(deps, appId, async () => undefined);
}

/** Whether some rollout of the app holds or awaits its lock now (the reconciler leaves such apps alone). */
export function isAppBusy(deps: Pick<ControllerDeps, 'scheduler'>, appId: string): boolean {
  return formationState(deps).locks.has(appId);
}

/** How many holds of each app's lock had ended at one moment; see `lockReleasedSince`. */
export type LockMarks = ReadonlyMap<string, number>;

export function lockMarks(deps: Pick<ControllerDeps, 'scheduler'>): LockMarks {
  return new Map(formationState(deps).locksReleased);
}

/**
 * Whether a hold of the app's lock has ended since `marks` were taken. Every change the platform makes to an app's
 * containers happens under that lock, so when this is false, what was listed of them after the marks is still what
 * the platform left (the engine may have seen exits since). Ask it holding the lock: a hold in progress when the
 * marks were taken, or begun after, has then ended.
 */
export function lockReleasedSince(deps: LockDeps, marks: LockMarks, appId: string): boolean {
  // Another controller may have changed the app's containers at any time; this one cannot tell when.
  if (deps.db && appLocksOf(deps.db).othersPresent()) return true;
  return (formationState(deps).locksReleased.get(appId) ?? 0) !== (marks.get(appId) ?? 0);
}
