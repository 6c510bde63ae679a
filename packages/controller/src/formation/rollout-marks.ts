/**
 * Which containers rollouts keep out of the routers' tables: new ones not ready yet, old ones draining (ADR 0021),
 * and, for the health monitor (container-health.ts, which keeps its own set in memory), those failing readiness.
 * Every controller keeps its own marks in memory (formation-state.ts), read at once by what runs on it. On PostgreSQL,
 * where several controllers serve one store and a router may poll any of them, each mark is also written to the
 * store (`rollout_marks`) before the change it makes is announced, and every routing table is built from the store's
 * marks with this controller's: a rollout on one controller then keeps its not-ready and draining containers out of
 * the tables of routers polling another. On SQLite there is one controller, and memory is the whole of it.
 * @module
 */
import type { ControllerDeps } from '../deps.ts';
import { storeTime } from '../clock.ts';
import type { Database, RolloutMarksTable } from '../db/schema.ts';
import { formationState } from './formation-state.ts';

type MarkDeps = Pick<ControllerDeps, 'scheduler' | 'db' | 'dialect'>;

export interface RolloutMarks {
  readonly notReady: ReadonlySet<string>;
  readonly draining: ReadonlySet<string>;
  /** The store's only: this controller's own are the health monitor's (container-health.ts). */
  readonly unready: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

type Mark = RolloutMarksTable['mark'];

const shared = (deps: MarkDeps): boolean => deps.dialect === 'postgres';

/** Writes marks to the store, or within a transaction of it (`db`). */
async function writeMarks(db: Database, names: string[], mark: Mark): Promise<void> {
  if (names.length === 0) return;
  const created = storeTime();
  await db
    .insertInto('rollout_marks')
    .values(names.map((name) => ({ name, mark, created })))
    .onConflict((oc) => oc.column('name').doUpdateSet({ mark, created }))
    .execute();
}

async function deleteMarks(db: Database, names: string[], only?: Mark): Promise<void> {
  if (names.length === 0) return;
  let query = db.deleteFrom('rollout_marks').where('name', 'in', names);
  if (only) query = query.where('mark', '=', only);
  await query.execute();
}

/** New containers about to start: no traffic until they are ready. Call before starting them. */
export async function markNotReady(deps: MarkDeps, names: string[]): Promise<void> {
  const { notReady } = formationState(deps);
  for (const name of names) notReady.add(name);
  if (shared(deps)) await writeMarks(deps.db, names, 'not_ready');
}

/** Containers that passed their readiness check: they may serve (unless draining). */
export async function markReady(deps: MarkDeps, names: string[]): Promise<void> {
  const { notReady } = formationState(deps);
  for (const name of names) notReady.delete(name);
  if (shared(deps)) await deleteMarks(deps.db, names, 'not_ready');
}

/** Containers on their way out: no more traffic. Call before the routers are told, and before stopping them. */
export async function markDraining(deps: MarkDeps, names: string[]): Promise<void> {
  const { draining } = formationState(deps);
  for (const name of names) draining.add(name);
  if (shared(deps)) await writeMarks(deps.db, names, 'draining');
}

/** A rollout's switch in one step: `ready` join, `leaving` drain, so no table shows one change without the other. */
export async function markSwitch(deps: MarkDeps, ready: string[], leaving: string[]): Promise<void> {
  const { notReady, draining } = formationState(deps);
  for (const name of ready) notReady.delete(name);
  for (const name of leaving) draining.add(name);
  if (!shared(deps) || (ready.length === 0 && leaving.length === 0)) return;
  await deps.db.transaction().execute(async (trx) => {
    await deleteMarks(trx, ready, 'not_ready');
    await writeMarks(trx, leaving, 'draining');
  });
}

/**
 * The health monitor's marks, in the store only (it keeps its own set): a container failing readiness, or restarted
 * in place, is out of every controller's tables until it passes again (`healthy`).
 */
export async function shareUnready(deps: MarkDeps, names: string[], healthy: boolean): Promise<void> {
  if (!shared(deps)) return;
  if (healthy) await deleteMarks(deps.db, names, 'unready');
  else await writeMarks(deps.db, names, 'unready');
}

/** The containers the store holds `unready` (a health monitor that begins, on a new leader, takes them over). */
export async function storeUnready(deps: MarkDeps): Promise<string[]> {
  if (!shared(deps)) return [];
  return (await deps.db.selectFrom('rollout_marks').select('name').where('mark', '=', 'unready').execute()).map((row) => row.name);
}

/** Containers that are gone (stopped and removed): nothing to keep out any more. */
export async function forgetMarks(deps: MarkDeps, names: string[]): Promise<void> {
  const { notReady, draining } = formationState(deps);
  for (const name of names) {
    notReady.delete(name);
    draining.delete(name);
  }
  if (shared(deps)) await deleteMarks(deps.db, names);
}

/**
 * The marks every controller's routing table must respect: this controller's, and on PostgreSQL every controller's
 * in the store. Read after the change that a router's table must reflect was announced.
 */
export async function allRolloutMarks(deps: MarkDeps): Promise<RolloutMarks> {
  const local = formationState(deps);
  if (!shared(deps)) return { notReady: local.notReady, draining: local.draining, unready: NONE };
  const rows = await deps.db.selectFrom('rollout_marks').select(['name', 'mark']).execute();
  const notReady = new Set(local.notReady);
  const draining = new Set(local.draining);
  const unready = new Set<string>();
  for (const row of rows) ({ not_ready: notReady, draining, unready })[row.mark].add(row.name);
  return { notReady, draining, unready };
}

/**
 * Drops the store's marks of containers the engine no longer has (their rollout's controller died before it could),
 * keeping any younger than `graceMs`: a rollout marks its containers before it starts them.
 */
export async function pruneRolloutMarks(deps: MarkDeps, existing: ReadonlySet<string>, graceMs: number): Promise<number> {
  if (!shared(deps)) return 0;
  const before = storeTime(new Date(Date.now() - graceMs));
  const rows = await deps.db.selectFrom('rollout_marks').select(['name']).where('created', '<', before).execute();
  const gone = rows.map((row) => row.name).filter((name) => !existing.has(name));
  if (gone.length > 0) await deps.db.deleteFrom('rollout_marks').where('name', 'in', gone).execute();
  return gone.length;
}
