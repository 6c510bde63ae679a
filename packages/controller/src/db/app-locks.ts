/**
 * Locks keyed by name (an app's formation, an app's stream of changes) that hold for every controller sharing the
 * store. On SQLite there is one controller process, so a queue in memory is the whole lock. On PostgreSQL several
 * controllers may serve one store (ADR 0016), so each lock is also a PostgreSQL advisory lock: held for a
 * transaction (`transaction`), or for as long as a dedicated connection holds it (`acquire`), so that a controller
 * that dies lets go of its locks with its connections. Callers wait in order within one process; only the first
 * waiter of a process holds a connection for a key. Keys are scoped by the store's schema, so that schemas of one
 * database (the tests') never wait on each other.
 * @module
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

/** Ends a hold; safe to call once. */
export type LockRelease = () => Promise<void>;

export interface AppLocks {
  /** Whether holds reach other processes (PostgreSQL). */
  readonly shared: boolean;
  /**
   * Whether another controller serves the store, or did lately: then what this one saw of an app's containers
   * may have changed without it holding the app's lock.
   */
  othersPresent(): boolean;
  /** Waits for `key`, then holds it until the returned function is called. */
  acquire(key: string): Promise<LockRelease>;
  /** Holds `key` if nobody (here or elsewhere) holds or awaits it now; null otherwise. */
  tryAcquire(key: string): Promise<LockRelease | null>;
  /** Runs `work` in a transaction of `db` during which no other `transaction` of `key` runs, here or elsewhere. */
  transaction<T>(db: Database, key: string, work: (trx: Database) => Promise<T>): Promise<T>;
  /** Lets go of every hold at once, as this process's death would (tests of what another process then does). */
  abandon(): void;
  close(): Promise<void>;
}

/** Waiters for each key, in order of asking. */
class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  busy(key: string): boolean {
    return this.#tails.has(key);
  }
}

/** The lock of a single controller process (SQLite). */
export class InProcessAppLocks implements AppLocks {
  readonly shared = false;
  #queue = new KeyedQueue();

  abandon(): void {
    this.#queue = new KeyedQueue();
  }

  othersPresent(): boolean {
    return false;
  }

  async acquire(key: string): Promise<LockRelease> {
    const release = await this.#queue.acquire(key);
    return async () => release();
  }

  async tryAcquire(key: string): Promise<LockRelease | null> {
    return this.#queue.busy(key) ? null : this.acquire(key);
  }

  async transaction<T>(db: Database, key: string, work: (trx: Database) => Promise<T>): Promise<T> {
    const release = await this.#queue.acquire(key);
    try {
      return await db.transaction().execute(work);
    } finally {
      release();
    }
  }

  async close(): Promise<void> {}
}

/** The advisory lock's 64-bit key: the schema and the name, hashed by PostgreSQL itself. */
const LOCK_KEY = 'hashtextextended(current_schema() || $1, 0)';

/**
 * Every controller on a store holds this shared advisory lock (the two-key form: a constant, the schema's hash) for
 * as long as it runs, so that each can count the others in pg_locks.
 */
const PRESENCE_CLASS = 0x44454953;
const PRESENCE_KEY = `${PRESENCE_CLASS}, hashtext(current_schema())`;
const PRESENCE_COUNT = `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
  AND classid = ${PRESENCE_CLASS}::bigint::oid AND objid = (hashtext(current_schema())::bigint & 4294967295)::oid`;
/** How often presence is counted; a controller that left counts as present this long after. */
const PRESENCE_POLL_MS = 1_000;
const PRESENCE_MEMORY_MS = 30_000;

/** Locks shared by every controller on one PostgreSQL store. */
export class PostgresAppLocks implements AppLocks {
  readonly shared = true;
  #queue = new KeyedQueue();
  /** The connections holding session locks now. */
  readonly #holding = new Set<pg.PoolClient>();
  #closed: Promise<void> | null = null;
  /** Connections that hold session locks; apart from the store's pool so that holds never starve queries. */
  readonly #pool: pg.Pool;
  readonly #presence: Promise<pg.PoolClient | null>;
  #presenceTimer: ReturnType<typeof setInterval> | null = null;
  /** When another controller was last counted; -Infinity: never. */
  #othersSeenAt = -Infinity;

  constructor(connectionString: string, maxHolds = 64) {
    this.#pool = new pg.Pool({ connectionString, max: maxHolds, keepAlive: true });
    // A connection that breaks while idle is dropped by the pool; one that breaks while holding is handled at release.
    this.#pool.on('error', () => undefined);
    this.#presence = this.#announce();
  }

  /** Holds the presence lock on a connection of its own and counts the others now and then. */
  async #announce(): Promise<pg.PoolClient | null> {
    try {
      const client = await this.#pool.connect();
      client.on('error', () => undefined);
      await client.query(`SELECT pg_advisory_lock_shared(${PRESENCE_KEY})`);
      const count = async () => {
        const { rows } = await client.query<{ n: number }>(PRESENCE_COUNT);
        if ((rows[0]?.n ?? 0) > 1) this.#othersSeenAt = Date.now();
      };
      await count();
      this.#presenceTimer = setInterval(() => {
        // A failed count (the connection lost) assumes company: the safe side.
        count().catch(() => (this.#othersSeenAt = Date.now()));
      }, PRESENCE_POLL_MS);
      this.#presenceTimer.unref();
      return client;
    } catch {
      this.#othersSeenAt = Infinity;
      return null;
    }
  }

  othersPresent(): boolean {
    return Date.now() - this.#othersSeenAt < PRESENCE_MEMORY_MS;
  }

  async acquire(key: string): Promise<LockRelease> {
    const local = await this.#queue.acquire(key);
    return this.#hold(key, local, 'pg_advisory_lock').then((release) => release!);
  }

  async tryAcquire(key: string): Promise<LockRelease | null> {
    if (this.#queue.busy(key)) return null;
    const local = await this.#queue.acquire(key);
    return this.#hold(key, local, 'pg_try_advisory_lock');
  }

  async #hold(key: string, local: () => void, lockFunction: 'pg_advisory_lock' | 'pg_try_advisory_lock'): Promise<LockRelease | null> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      local();
      throw error;
    }
    try {
      const result = await client.query<{ held: boolean | string }>(`SELECT ${lockFunction}(${LOCK_KEY}) AS held`, [`:${key}`]);
      if (lockFunction === 'pg_try_advisory_lock' && result.rows[0]?.held !== true) {
        client.release();
        local();
        return null;
      }
    } catch (error) {
      client.release(error as Error);
      local();
      throw error;
    }
    this.#holding.add(client);
    let released = false;
    return async () => {
      if (released || !this.#holding.delete(client)) return;
      released = true;
      try {
        await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [`:${key}`]);
        client.release();
      } catch (error) {
        // The connection is gone, and the lock with its session: nothing is left held.
        client.release(error as Error);
      } finally {
        local();
      }
    };
  }

  async transaction<T>(db: Database, key: string, work: (trx: Database) => Promise<T>): Promise<T> {
    const local = await this.#queue.acquire(key);
    try {
      return await db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ${`:${key}`}, 0))`.execute(trx);
        return work(trx);
      });
    } finally {
      local();
    }
  }

  abandon(): void {
    // Destroyed connections end their sessions, and the server lets go of their locks.
    for (const client of this.#holding) client.release(true);
    this.#holding.clear();
    this.#queue = new KeyedQueue();
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#presenceTimer) clearInterval(this.#presenceTimer);
      (await this.#presence)?.release(true);
      // Holds still open (a rollout cut short by the stop) end with their connections.
      this.abandon();
      await this.#pool.end();
    })();
    return this.#closed;
  }
}

const registered = new WeakMap<object, AppLocks>();

/** Ties a store to its locks (done by `openDatabase`). */
export function registerAppLocks(db: Database, locks: AppLocks): void {
  registered.set(db, locks);
}

/** The locks of a store: those it was opened with, or in-process ones for a store opened otherwise. */
export function appLocksOf(db: Database): AppLocks {
  let locks = registered.get(db);
  if (!locks) registered.set(db, (locks = new InProcessAppLocks()));
  return locks;
}
