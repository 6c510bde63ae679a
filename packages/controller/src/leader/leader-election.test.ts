import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startLeaderElection } from './leader-election.ts';
import type { LeaderElection } from './leader-election.ts';

const postgresUrl = process.env.DEIS_TEST_DATABASE_URL;

/** An election whose lead and loss are recorded in order. */
function candidate(databaseUrl: string, name: string, events: string[], who: string): LeaderElection {
  return startLeaderElection({
    databaseUrl,
    name,
    retryMs: 100,
    onLead: () => void events.push(`${who} leads`),
    onLose: () => void events.push(`${who} lost`),
  });
}

describe('leader election', () => {
  const running: LeaderElection[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((election) => election.stop()));
  });

  it('leads at once and alone on SQLite, and lets go when stopped', async () => {
    const events: string[] = [];
    const election = candidate('/tmp/nowhere/controller.sqlite', 'loops', events, 'a');
    expect(election.isLeader()).toBe(true);
    await election.stop();
    expect(election.isLeader()).toBe(false);
    expect(events).toEqual(['a leads', 'a lost']);
  });

  describe.skipIf(!postgresUrl)('on PostgreSQL', () => {
    let admin: pg.Client;
    let schemaUrl: string;
    let schema: string;

    afterEach(async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    });

    const fresh = async () => {
      schema = `t_${randomBytes(6).toString('hex')}`;
      admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = new URL(postgresUrl!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      schemaUrl = url.toString();
    };

    /** The backend whose session holds the leader lock of `name` in the schema. */
    const leaderBackend = async (name: string): Promise<number | undefined> => {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
           AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1 || ':leader:' || $2, 0)`,
        [schema, name],
      );
      return rows[0]?.pid;
    };

    it('has one leader among controllers; when the leader dies another takes over within seconds', async () => {
      await fresh();
      const events: string[] = [];
      const a = candidate(schemaUrl, 'loops', events, 'a');
      running.push(a);
      await expect.poll(() => a.isLeader()).toBe(true);
      const b = candidate(schemaUrl, 'loops', events, 'b');
      const c = candidate(schemaUrl, 'loops', events, 'c');
      running.push(b, c);
      // Several tries of the followers: none of them may lead while a does.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect([a.isLeader(), b.isLeader(), c.isLeader()]).toEqual([true, false, false]);

      // The leader's connection dies, as when its process or host does.
      const pid = await leaderBackend('loops');
      expect(pid).toBeDefined();
      const killedAt = Date.now();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect.poll(() => [b, c].filter((e) => e.isLeader()).length, { timeout: 5_000, interval: 20 }).toBe(1);
      expect(Date.now() - killedAt).toBeLessThan(3_000);
      // The old leader noticed it lost the lock, and stopped leading.
      await expect.poll(() => a.isLeader(), { timeout: 3_000 }).toBe(false);
      // Both happen as soon as the server ends a's session, in either order.
      expect(events[0]).toBe('a leads');
      expect(events).toContain('a lost');
      expect(events.filter((e) => e.endsWith('leads'))).toHaveLength(2);
      const newLeader = b.isLeader() ? b : c;
      const follower = newLeader === b ? c : b;

      // A graceful stop hands over too; a never leads again while another holds the lock.
      await newLeader.stop();
      await expect.poll(() => follower.isLeader() || a.isLeader(), { timeout: 5_000, interval: 20 }).toBe(true);
      expect([a, follower].filter((e) => e.isLeader())).toHaveLength(1);
    });

    it('elects separately per name', async () => {
      await fresh();
      const events: string[] = [];
      const a = candidate(schemaUrl, 'one', events, 'a');
      const b = candidate(schemaUrl, 'two', events, 'b');
      running.push(a, b);
      await expect.poll(() => a.isLeader() && b.isLeader()).toBe(true);
    });
  });
});
