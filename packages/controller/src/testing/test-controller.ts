/**
 * A controller for tests: the real app on a fresh store (SQLite in memory, or a fresh PostgreSQL schema when
 * `DEIS_TEST_DATABASE_URL` is set) and the fake scheduler. Used only by `*.test.ts` files.
 * @module
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { FakeScheduler } from '@deis/scheduler/fake/fake-scheduler';
import { buildControllerApp } from '../app.ts';
import type { ControllerApp } from '../app.ts';
import { openDatabase } from '../db/database.ts';
import type { ControllerDeps } from '../deps.ts';
import { AppLogBuffer } from '../logs/log-buffer.ts';
import { startLogIngester } from '../logs/log-ingester.ts';
import { RoutingState } from '../routing/routing-state.ts';
import { DEFAULT_LIMITS } from '../settings.ts';
import type { ControllerSettings } from '../settings.ts';
import { insertUser } from '../users/user-store.ts';

export const TEST_BUILDER_KEY = 'test-builder-key-0123456789';

export interface TestController {
  app: ControllerApp;
  deps: ControllerDeps;
  scheduler: FakeScheduler;
  /** Sends a request; `token` adds the Authorization header, `builder` the builder key. */
  call(method: string, url: string, options?: { token?: string; body?: unknown; builder?: boolean; headers?: Record<string, string> }): Promise<TestResponse>;
  /** Creates a user directly in the store (the first one is not made admin unless asked) and returns their token. */
  user(username: string, options?: { admin?: boolean; password?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  /** The body parsed as JSON; undefined for an empty body. */
  json: unknown;
}

async function freshPostgresSchema(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** The store each test controller opened, for a second controller on the same one. */
const storeUrls = new WeakMap<TestController, string>();

/** Where a test controller's store is (a PostgreSQL URL with its schema), for what opens connections of its own. */
export function storeUrlOf(controller: TestController): string | undefined {
  return storeUrls.get(controller);
}

/**
 * Another controller's view of the same engine: the same containers, but an object of its own, so that what a
 * controller keeps per scheduler (formation-state.ts) is its own, as in another process.
 */
function sameEngine(scheduler: FakeScheduler): FakeScheduler {
  return new Proxy(scheduler, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * @param options.sharing another test controller whose PostgreSQL store and engine this one shares, as a second
 *   controller process of one cluster does (ADR 0016); the first one drops the store when it closes.
 */
export async function startTestController(overrides: Partial<ControllerSettings> = {}, options: { sharing?: TestController } = {}): Promise<TestController> {
  const postgresUrl = process.env.DEIS_TEST_DATABASE_URL;
  const sharedUrl = options.sharing ? storeUrls.get(options.sharing) : undefined;
  if (options.sharing && !sharedUrl) throw new Error('only a controller on PostgreSQL can share its store');
  const postgres = postgresUrl && !sharedUrl ? await freshPostgresSchema(postgresUrl) : null;
  const storeUrl = sharedUrl ?? (postgres ? postgres.url : ':memory:');
  const opened = await openDatabase(storeUrl);
  const scheduler = options.sharing ? sameEngine(options.sharing.scheduler) : new FakeScheduler({ nodeLabels: overrides.nodeLabels ?? {} });
  const settings: ControllerSettings = {
    host: '127.0.0.1',
    port: 0,
    databaseUrl: ':memory:',
    builderKey: TEST_BUILDER_KEY,
    registrationMode: 'enabled',
    platformDomain: 'example.test',
    deployHookUrls: [],
    deployHookSecret: null,
    deployTimeoutMs: 5_000,
    gracePeriodSeconds: 0,
    platformName: 'test',
    procfileMissingRemove: true,
    rejectIfProcfileMissing: false,
    nodeLabels: {},
    logLevel: 'silent',
    limits: DEFAULT_LIMITS,
    ...overrides,
  };
  const logs = new AppLogBuffer({ dir: settings.logDir ?? null, ...(settings.logLinesPerApp !== undefined ? { linesPerApp: settings.logLinesPerApp } : {}) });
  const deps: ControllerDeps = { db: opened.db, dialect: opened.dialect, scheduler, settings, routing: new RoutingState(), logs };
  const app = await buildControllerApp(deps);
  const ingester = startLogIngester(scheduler, logs, settings.platformName);

  const controller: TestController = {
    app,
    deps,
    scheduler,
    async call(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `token ${options.token}`;
      if (options.builder) headers['x-deis-builder-auth'] = TEST_BUILDER_KEY;
      let payload: string | undefined;
      if (options.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      }
      const response = await app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
      let json: unknown;
      try {
        json = response.body === '' ? undefined : JSON.parse(response.body);
      } catch {
        json = undefined;
      }
      return { status: response.statusCode, headers: response.headers, body: response.body, json };
    },
    async user(username, options = {}) {
      const { token } = await insertUser(opened.db, { username, password: options.password ?? 'password', email: `${username}@example.test`, isSuperuser: options.admin ?? false });
      return token;
    },
    async close() {
      ingester.stop();
      logs.close();
      await app.close();
      await opened.close();
      await postgres?.drop();
    },
  };
  if (storeUrl !== ':memory:') storeUrls.set(controller, storeUrl);
  return controller;
}
