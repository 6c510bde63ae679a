/**
 * The tenant limits on containers and one-off runs (settings `limits`, docs/security.md): checked before any
 * container spec is built, so that no single request can make the platform build, start or wait on more than an
 * operator allowed. Containers count against the app's owner, whoever scales it.
 * @module
 */
import { ConflictError, ValidationError } from '@deis/core/errors';
import type { Database } from '../db/schema.ts';
import { appLocksOf } from '../db/app-locks.ts';
import type { AppLocks, LockRelease } from '../db/app-locks.ts';
import type { ControllerDeps } from '../deps.ts';
import type { TenantLimits } from '../settings.ts';
import { parseStructure } from './formation-store.ts';

function total(structure: Record<string, number>): number {
  return Object.values(structure).reduce((sum, count) => sum + count, 0);
}

/** The containers the owner's other apps are set to run. */
async function othersOwnedBy(db: Database, ownerId: number, exceptUuid: string): Promise<number> {
  const rows = await db.selectFrom('apps').select('structure').where('owner_id', '=', ownerId).where('uuid', '!=', exceptUuid).execute();
  return rows.reduce((sum, row) => sum + total(parseStructure(row)), 0);
}

/**
 * Refuses (400) a structure over a limit. Only growth is refused: an app already over a limit an operator lowered can
 * still scale down, or change one type without growing.
 */
export async function checkScaleQuota(
  deps: Pick<ControllerDeps, 'db' | 'settings'>,
  app: { uuid: string; id: string; owner_id: number },
  current: Record<string, number>,
  wanted: Record<string, number>,
): Promise<void> {
  const { limits } = deps.settings;
  for (const [type, count] of Object.entries(wanted)) {
    if (count > limits.scalePerType && count > (current[type] ?? 0)) {
      throw new ValidationError(`Cannot scale ${type} to ${count}: the limit is ${limits.scalePerType} containers per process type (DEIS_LIMIT_SCALE_PER_TYPE)`);
    }
  }
  const before = total(current);
  const after = total(wanted);
  if (after <= before) return;
  if (after > limits.containersPerApp) {
    throw new ValidationError(`Cannot scale ${app.id} to ${after} containers: the limit is ${limits.containersPerApp} containers per app (DEIS_LIMIT_CONTAINERS_PER_APP)`);
  }
  const others = await othersOwnedBy(deps.db, app.owner_id, app.uuid);
  if (others + after > limits.containersPerUser) {
    throw new ValidationError(
      `Cannot scale ${app.id} to ${after} containers: its owner's apps would run ${others + after}, over the limit of ${limits.containersPerUser} containers per user (DEIS_LIMIT_CONTAINERS_PER_USER)`,
    );
  }
}

/** Too many one-off runs at once; the route answers 429 with `{"detail"}`. */
export class RunQuotaError extends ConflictError {
  constructor(message: string) {
    super(message, { code: 'run_quota' });
  }
}

interface RunCounts {
  byApp: Map<string, number>;
  byUser: Map<string, number>;
}

const counts = new WeakMap<object, RunCounts>();

function runCounts(deps: Pick<ControllerDeps, 'scheduler'>): RunCounts {
  let found = counts.get(deps.scheduler);
  if (!found) {
    found = { byApp: new Map(), byUser: new Map() };
    counts.set(deps.scheduler, found);
  }
  return found;
}

function change(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/**
 * Takes a run slot of the app and of the user for `work`, or refuses at once when either has none left. Runs hold an
 * HTTP request, a container and the output tail for up to the run timeout; without a bound, one client could hold as
 * many as it opens connections.
 */
export async function withRunSlot<T>(deps: Pick<ControllerDeps, 'scheduler' | 'settings'> & Partial<Pick<ControllerDeps, 'db'>>, appId: string, username: string, work: () => Promise<T>): Promise<T> {
  const { limits } = deps.settings;
  const locks = deps.db ? appLocksOf(deps.db) : null;
  if (locks?.shared) return withSharedRunSlot(locks, limits, appId, username, work);
  const { byApp, byUser } = runCounts(deps);
  if ((byApp.get(appId) ?? 0) >= limits.runsPerApp) {
    throw new RunQuotaError(`${appId} already has ${limits.runsPerApp} one-off commands running, the limit per app (DEIS_LIMIT_RUNS_PER_APP); try again when one has finished`);
  }
  if ((byUser.get(username) ?? 0) >= limits.runsPerUser) {
    throw new RunQuotaError(`${username} already has ${limits.runsPerUser} one-off commands running, the limit per user (DEIS_LIMIT_RUNS_PER_USER); try again when one has finished`);
  }
  change(byApp, appId, 1);
  change(byUser, username, 1);
  try {
    return await work();
  } finally {
    change(byApp, appId, -1);
    change(byUser, username, -1);
  }
}

/** The first of `count` numbered slots of `prefix` that nobody on the store holds, held; null when all are taken. */
async function takeSlot(locks: AppLocks, prefix: string, count: number): Promise<LockRelease | null> {
  for (let slot = 0; slot < count; slot++) {
    const release = await locks.tryAcquire(`${prefix}:${slot}`);
    if (release) return release;
  }
  return null;
}

/**
 * The run slots on a store several controllers share (ADR 0016): each slot is an advisory lock, so the limits hold
 * for the platform, not per controller, and a controller that dies frees its slots with its connections.
 */
async function withSharedRunSlot<T>(locks: AppLocks, limits: Readonly<TenantLimits>, appId: string, username: string, work: () => Promise<T>): Promise<T> {
  const appSlot = await takeSlot(locks, `run-app:${appId}`, limits.runsPerApp);
  if (!appSlot) {
    throw new RunQuotaError(`${appId} already has ${limits.runsPerApp} one-off commands running, the limit per app (DEIS_LIMIT_RUNS_PER_APP); try again when one has finished`);
  }
  try {
    const userSlot = await takeSlot(locks, `run-user:${username}`, limits.runsPerUser);
    if (!userSlot) {
      throw new RunQuotaError(`${username} already has ${limits.runsPerUser} one-off commands running, the limit per user (DEIS_LIMIT_RUNS_PER_USER); try again when one has finished`);
    }
    try {
      return await work();
    } finally {
      await userSlot();
    }
  } finally {
    await appSlot();
  }
}
