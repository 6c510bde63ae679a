/**
 * Tells the other controllers on a PostgreSQL store when this one changed the routing table, and hears when they did
 * (LISTEN/NOTIFY on a connection of its own, ADR 0016): a router polling any controller then gets a table with what
 * another controller deployed, scaled or routed at once, rather than when its poll times out. Only the fact of a change
 * travels; each controller reads the table itself. Per-process routing facts (containers not ready yet, or draining)
 * are not shared by this.
 * @module
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { RoutingState } from './routing-state.ts';

const CHANNEL = 'deis_routing_changed';

export interface RoutingRelay {
  stop(): Promise<void>;
}

/** Relays routing changes between controllers on the store at `databaseUrl`; on SQLite (one controller), nothing. */
export function startRoutingRelay(routing: RoutingState, databaseUrl: string, onError: (error: unknown) => void = () => undefined): RoutingRelay {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return { stop: async () => undefined };
  const me = randomUUID();
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
    client = fresh;
    // A change made elsewhere while this one was not listening: read the table again (here only).
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
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
