import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { RoutingState } from './routing-state.ts';
import { startRoutingRelay } from './routing-relay.ts';
import type { RoutingRelay } from './routing-relay.ts';

const postgresUrl = process.env.DEIS_TEST_DATABASE_URL;

describe('the routing relay', () => {
  const relays: RoutingRelay[] = [];
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  });

  it('does nothing on SQLite, where one controller is all', async () => {
    const routing = new RoutingState();
    relays.push(startRoutingRelay(routing, '/tmp/nowhere/controller.sqlite'));
    expect(routing.changed()).toBe(2);
  });

  it.skipIf(!postgresUrl)("wakes the other controllers' routing on a change, within the same schema only, without echoes", async () => {
    const url = (schema: string) => {
      const u = new URL(postgresUrl!);
      u.searchParams.set('options', `-c search_path=${schema}`);
      return u.toString();
    };
    const [mine, other] = [`t_${randomBytes(6).toString('hex')}`, `t_${randomBytes(6).toString('hex')}`];
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      for (const schema of [mine, other]) await admin.query(`CREATE SCHEMA ${schema}`);
      const [a, b, elsewhere] = [new RoutingState(), new RoutingState(), new RoutingState()];
      relays.push(startRoutingRelay(a, url(mine)), startRoutingRelay(b, url(mine)), startRoutingRelay(elsewhere, url(other)));
      // Each bumps its own generation once when it starts listening.
      await expect.poll(() => [a.generation, b.generation, elsewhere.generation]).toEqual([2, 2, 2]);
      const waiting = b.waitChange(b.generation, 5_000);
      a.changed();
      await waiting;
      await expect.poll(() => b.generation).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // No echo back to a, nothing in the other schema.
      expect([a.generation, b.generation, elsewhere.generation]).toEqual([3, 3, 2]);
    } finally {
      for (const schema of [mine, other]) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
