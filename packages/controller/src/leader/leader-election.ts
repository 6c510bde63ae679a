/**
 * One leader among the controllers sharing a PostgreSQL store, for the loops that must run once per cluster (the
 * reconciler, the autoscaler; ADR 0016). Leadership is a session-level advisory lock held by a connection of its own:
 * a controller that dies, or loses that connection, loses the lock with its session, and another controller, trying
 * every `retryMs`, takes it. The leader checks its connection as often, and stops leading when a check fails, so a
 * controller cut off from the store stops acting within about `retryMs`. On SQLite, with one controller, it leads at
 * once and for good.
 * @module
 */
import pg from 'pg';

export interface LeaderElectionOptions {
  /** The store: `postgres://…` elects; anything else (a SQLite file) leads at once. */
  databaseUrl: string;
  /** What is led; controllers electing different names do not exclude each other. */
  name: string;
  /** Called on becoming leader: start the loops. */
  onLead: () => void | Promise<void>;
  /** Called on ceasing to lead (connection lost, or stopping): stop the loops and wait for them. */
  onLose: () => void | Promise<void>;
  /** How often a follower tries to lead and a leader checks its connection; default 1 s. */
  retryMs?: number;
  /** Told why a try or a check failed (the store away); the election goes on. */
  onError?: (error: unknown) => void;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Stops electing; a leader runs `onLose` and lets go of the lock. */
  stop(): Promise<void>;
}

const LOCK_KEY = 'hashtextextended(current_schema() || $1, 0)';

export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) return leadAlone(options);
  const retryMs = options.retryMs ?? 1_000;
  const key = `:leader:${options.name}`;
  let client: pg.Client | null = null;
  let leading = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let step: Promise<void> = Promise.resolve();

  const dropClient = () => {
    const old = client;
    client = null;
    // Ending the session lets go of the lock, if the server still knew of it.
    old?.end().catch(() => undefined);
  };

  const lose = async () => {
    if (!leading) return;
    leading = false;
    await options.onLose();
  };

  const tick = async () => {
    try {
      if (!client) {
        const fresh = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true, query_timeout: Math.max(retryMs * 3, 3_000) });
        // A connection that breaks (the server ended the session, the network went) ends the lead at once, not at the
        // next check; the next tick connects again.
        const broken = (error?: unknown) => {
          if (client !== fresh) return;
          if (error) options.onError?.(error);
          dropClient();
          void lose().catch((loseError: unknown) => options.onError?.(loseError));
        };
        fresh.on('error', broken);
        fresh.on('end', () => broken());
        client = fresh;
        await fresh.connect();
      }
      if (leading) {
        await client.query('SELECT 1');
      } else {
        const { rows } = await client.query<{ held: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS held`, [key]);
        if (rows[0]?.held === true && !stopped) {
          leading = true;
          await options.onLead();
        }
      }
    } catch (error) {
      options.onError?.(error);
      dropClient();
      await lose().catch((loseError: unknown) => options.onError?.(loseError));
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      step = tick().finally(schedule);
    }, retryMs);
  };
  step = tick().finally(schedule);

  return {
    isLeader: () => leading,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await step.catch(() => undefined);
      await lose().catch((error: unknown) => options.onError?.(error));
      dropClient();
    },
  };
}

function leadAlone(options: LeaderElectionOptions): LeaderElection {
  let leading = true;
  const started = Promise.resolve(options.onLead());
  return {
    isLeader: () => leading,
    async stop() {
      await started.catch(() => undefined);
      if (!leading) return;
      leading = false;
      await options.onLose();
    },
  };
}
