/**
 * Tells the other controllers on a PostgreSQL store when this one changed the routing table, and hears when they did
 * (LISTEN/NOTIFY on a connection of its own, ADR 0016): a router polling any controller then gets a table with what
 * another controller deployed, scaled or routed at once, rather than when its poll times out. Only the fact of a change
 * travels; each controller reads the table itself (rollouts' marks included, formation/rollout-marks.ts). It also
 * joins the controller to the store-wide confirmations of routing changes (shared-routing.ts, ADR 0021) and wakes
 * this controller's rollouts waiting for them when another controller's routers confirm.
 * @module
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { RoutingState } from './routing-state.ts';
import { APPLIED_CHANNEL, PRESENCE_KEY, startStoreRouting } from './shared-routing.ts';

const CHANNEL = 'deis_routing_changed';

export interface RoutingRelay {
  stop(): Promise<void>;
}

/** Relays routing changes between controllers on the store at `databaseUrl`; on SQLite (one controller), nothing. */
export function startRoutingRelay(routing: RoutingState, databaseUrl: string, onError: (error: unknown) => void = () => undefined): RoutingRelay {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return { stop: async () => undefined };
  const me = randomUUID();
  const shared = startStoreRouting(databaseUrl, onError);
  routing.share(shared);
  let client: pg.Client | null = null;
  let schema = '';
  let stopped = false;
  let relaying = false;
  let retry: ReturnType<typeof setTimeout> | null = null;

  const connect = async () => {
    const fresh = new pg.Client({ connectionString: databaseUrl, keepAlive: true });
    fresh.on('error', (error) => {
      onError(error);
      if (client === fresh) reconnect();
    });
    fresh.on('notification', (message) => {
      if (message.channel === APPLIED_CHANNEL) {
        if (message.payload === schema) shared.wake();
        return;
      }
      const [from, inSchema] = (message.payload ?? '').split(' ');
      if (from === me || inSchema !== schema) return;
      relaying = true;
      try {
        routing.changed();
      } finally {
        relaying = false;
      }
    });
    await fresh.connect();
    schema = (await fresh.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema ?? '';
    await fresh.query(`LISTEN ${CHANNEL}`);
    await fresh.query(`LISTEN ${APPLIED_CHANNEL}`);
    // Held while this connection lives: others wait for this controller's routers only while it does.
    await fresh.query(`SELECT pg_advisory_lock(${PRESENCE_KEY})`, [shared.controller]);
    client = fresh;
    // A change made elsewhere while this one was not listening: read the table again (here only); a confirmation
    // missed meanwhile: look again.
    shared.wake();
    relaying = true;
    try {
      routing.changed();
    } finally {
      relaying = false;
    }
  };

  const reconnect = () => {
    const old = client;
    client = null;
    old?.end().catch(() => undefined);
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      if (!stopped) connect().catch((error: unknown) => (onError(error), reconnect()));
    }, 1_000);
  };

  const unsubscribe = routing.onChanged(() => {
    if (relaying || !client) return;
    client.query('SELECT pg_notify($1, $2)', [CHANNEL, `${me} ${schema}`]).catch((error: unknown) => onError(error));
  });
  connect().catch((error: unknown) => (onError(error), reconnect()));

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      if (retry) clearTimeout(retry);
      routing.share(null);
      await shared.close();
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
