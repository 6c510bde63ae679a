/**
 * Routing changes and the routers' confirmations across the controllers of one PostgreSQL store (ADR 0021). A
 * rollout's switch counts one change in `routing_changes` after its marks are written (formation/rollout-marks.ts);
 * each table a controller serves its routers is read after noting the count, so a router's report of a generation
 * confirms every change up to that count, recorded per controller in `router_confirmations`. A rollout on any
 * controller then waits until each controller whose routers are alive has confirmed its change. Confirmations wake
 * the waiters through NOTIFY (the relay listens, routing-relay.ts), never by polling on the rollout's path.
 * @module
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { SharedRouting } from './routing-state.ts';

/** Woken when some controller's routers confirmed a change. */
export const APPLIED_CHANNEL = 'deis_routing_applied';

/**
 * How long after a router's last poll or report its controller still counts as having routers: above the long
 * poll's 25 s (routes.ts), so a router idle in its poll stays counted, and a dead one stops costing a rollout its
 * bounded wait within a minute.
 */
export const LIVE_ROUTER_MS = 60_000;
/** Between two notes that a router polls: they only need to stay well inside LIVE_ROUTER_MS. */
const POLL_NOTE_MS = 5_000;
/** A waiter looks at the store again this often even without a wake-up, in case a notification was lost. */
const RECHECK_MS = 1_000;

const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * The advisory lock a controller's relay holds on its own connection for as long as it lives (routing-relay.ts):
 * the confirmations of a controller whose lock is gone (its process died) are not waited for, at once, rather than
 * until its routers' last poll is LIVE_ROUTER_MS old.
 */
export const PRESENCE_KEY = `hashtextextended('deis-routers:' || $1, 0)`;
const PRESENT = `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('deis-routers:' || rc.controller, 0))`;

export interface StoreRouting extends SharedRouting {
  /** This controller's key among the confirmations. */
  readonly controller: string;
  /** Some controller's routers confirmed a change: waiters look at the store again. */
  wake(): void;
  /** Removes this controller's confirmations (its routers go elsewhere) and closes its connections. */
  close(): Promise<void>;
}

export function startStoreRouting(databaseUrl: string, onError: (error: unknown) => void = () => undefined): StoreRouting {
  const controller = randomUUID();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3, keepAlive: true });
  pool.on('error', onError);
  let wakers: Array<() => void> = [];
  let lastPollNote = 0;

  const wake = () => {
    const woken = wakers;
    wakers = [];
    for (const resolve of woken) resolve();
  };
  /** A wake-up to wait for, and the way to stop waiting for it. */
  const nextWake = () => {
    let resolveWake!: () => void;
    const woken = new Promise<void>((resolve) => (resolveWake = resolve));
    wakers.push(resolveWake);
    return { woken, drop: () => void (wakers = wakers.filter((w) => w !== resolveWake)) };
  };

  return {
    controller,
    wake,
    async publish() {
      const { rows } = await pool.query<{ count: string }>('UPDATE routing_changes SET count = count + 1 WHERE id = 1 RETURNING count');
      if (!rows[0]) throw new Error('routing_changes has no row');
      return Number(rows[0].count);
    },
    async current() {
      const { rows } = await pool.query<{ count: string }>('SELECT count FROM routing_changes WHERE id = 1');
      return Number(rows[0]?.count ?? 0);
    },
    async confirm(change) {
      lastPollNote = Date.now();
      await pool.query(
        `INSERT INTO router_confirmations (controller, change, seen) VALUES ($1, $2, ${NOW_MS})
         ON CONFLICT (controller) DO UPDATE SET change = GREATEST(router_confirmations.change, EXCLUDED.change), seen = EXCLUDED.seen`,
        [controller, change],
      );
      wake();
      await pool.query('SELECT pg_notify($1, current_schema())', [APPLIED_CHANNEL]);
    },
    polled() {
      if (Date.now() - lastPollNote < POLL_NOTE_MS) return;
      lastPollNote = Date.now();
      // Only a controller whose routers have reported counts: one whose router never applied a table is not waited for.
      pool.query(`UPDATE router_confirmations SET seen = ${NOW_MS} WHERE controller = $1`, [controller]).catch(onError);
    },
    async waitConfirmed(change, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // Listened for before looking, so that a confirmation landing in between is not missed.
        const { woken, drop } = nextWake();
        const { rows } = await pool.query<{ routers: string; least: string | null }>(
          `SELECT count(*) AS routers, min(change) AS least FROM router_confirmations rc WHERE seen > ${NOW_MS} - $1 AND ${PRESENT}`,
          [LIVE_ROUTER_MS],
        );
        const row = rows[0];
        const left = deadline - Date.now();
        if (!row || Number(row.routers) === 0 || Number(row.least) >= change || left <= 0) {
          drop();
          return !row || Number(row.routers) === 0 || Number(row.least) >= change;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, RECHECK_MS));
          void woken.then(() => (clearTimeout(timer), resolve()));
        });
        drop();
      }
    },
    async close() {
      wake();
      await pool.query('DELETE FROM router_confirmations WHERE controller = $1', [controller]).catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
