/**
 * The store's tables as the query layer sees them. The same schema serves SQLite and PostgreSQL, so it keeps to what
 * both store alike: booleans are integers 0/1, JSON is text, times are ISO-8601 text with milliseconds (they sort as
 * text; the wire shows them to the second). Convert at the edge of each store module, never in route handlers.
 * @module
 */
import type { Generated, Kysely } from 'kysely';

type Bool = number;
type Json = string;
type Time = string;

export interface UsersTable {
  id: Generated<number>;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  /** scrypt, in the form `scrypt$<N>$<salt b64>$<hash b64>`. */
  password_hash: string;
  is_superuser: Bool;
  is_staff: Bool;
  is_active: Bool;
  last_login: Time | null;
  date_joined: Time;
}

/** API tokens, one per login (a user may have several); only their SHA-256 is stored. */
export interface TokensTable {
  user_id: number;
  token_hash: string;
  created: Time;
}

export interface KeysTable {
  uuid: string;
  owner_id: number;
  /** The key's name, unique across the platform. */
  id: string;
  public: string;
  fingerprint: string;
  created: Time;
  updated: Time;
}

export interface AppsTable {
  uuid: string;
  id: string;
  owner_id: number;
  structure: Json;
  created: Time;
  updated: Time;
}

/** Collaborators of an app (the `use_app` permission). */
export interface PermsTable {
  app_uuid: string;
  user_id: number;
  created: Time;
}

export interface ConfigsTable {
  uuid: string;
  app_uuid: string;
  owner_id: number;
  values: Json;
  memory: Json;
  cpu: Json;
  tags: Json;
  registry: Json;
  healthcheck: Json;
  created: Time;
  updated: Time;
}

export interface BuildsTable {
  uuid: string;
  app_uuid: string;
  owner_id: number;
  image: string;
  sha: string;
  procfile: Json;
  dockerfile: string;
  created: Time;
  updated: Time;
  /** The builder's name for the hook call that made it, so that a retry on another controller finds it (ADR 0021). */
  request_id: string | null;
}

export interface ReleasesTable {
  uuid: string;
  app_uuid: string;
  owner_id: number;
  version: number;
  summary: string;
  failed: Bool;
  config_uuid: string;
  build_uuid: string | null;
  /** Why a failed release failed, for the pusher and `releases:info`. */
  exception: string | null;
  /**
   * 1 from when the release is stored until its deploy has ended either way: a release still marked at start was
   * interrupted by a crash, and is failed rather than adopted (deploy-recovery.ts).
   */
  deploying: Generated<Bool>;
  created: Time;
  updated: Time;
}

export interface DomainsTable {
  uuid: string;
  app_uuid: string;
  owner_id: number;
  domain: string;
  cert_id: number | null;
  created: Time;
  updated: Time;
}

export interface CertsTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  certificate: string;
  key: string;
  common_name: string | null;
  san: Json;
  fingerprint: string;
  expires: Time;
  starts: Time;
  issuer: string;
  subject: string;
  created: Time;
  updated: Time;
}

export interface AppSettingsTable {
  uuid: string;
  app_uuid: string;
  owner_id: number;
  maintenance: Bool;
  routable: Bool;
  whitelist: Json;
  autoscale: Json;
  label: Json;
  created: Time;
  updated: Time;
}

export interface TlsTable {
  uuid: string;
  app_uuid: string;
  owner_id: number;
  /** null until first set. */
  https_enforced: Bool | null;
  created: Time;
  updated: Time;
}

/** The controller's own events per app, in Deis's log line format, served by the logs endpoint. */
export interface LogLinesTable {
  id: Generated<number>;
  app_uuid: string;
  created: Time;
  line: string;
}

/** An app's log drain; `url` may hold credentials and is shown only masked (logs/drain-url.ts). */
export interface LogDrainsTable {
  uuid: string;
  app_uuid: string;
  url: string;
  created: Time;
}

/**
 * Containers kept out of the routers' tables (ADR 0021): `not_ready` (started by a rollout, readiness not passed),
 * `draining` (being replaced) or `unready` (failing its readiness probe, or restarted and not passed yet: the health
 * monitor's, container-health.ts). Written on PostgreSQL, where every controller builds its routers' tables from it;
 * on SQLite the one controller keeps them in memory (formation/rollout-marks.ts).
 */
export interface RolloutMarksTable {
  name: string;
  mark: 'not_ready' | 'draining' | 'unready';
  created: Time;
}

/** One row (id 1): how many routing changes a rollout has waited on, store-wide; the number a confirmation reaches. */
export interface RoutingChangesTable {
  id: number;
  count: number;
}

/**
 * Per controller whose routers report what they applied: the routing change count the newest applied table covers,
 * and when (the store's clock, epoch milliseconds) a router last polled or reported. A rollout on any controller
 * waits until every controller with live routers has confirmed its change (routing/shared-routing.ts).
 */
export interface RouterConfirmationsTable {
  controller: string;
  change: number;
  seen: number;
}

export interface Schema {
  users: UsersTable;
  tokens: TokensTable;
  keys: KeysTable;
  apps: AppsTable;
  perms: PermsTable;
  configs: ConfigsTable;
  builds: BuildsTable;
  releases: ReleasesTable;
  domains: DomainsTable;
  certs: CertsTable;
  app_settings: AppSettingsTable;
  tls: TlsTable;
  log_lines: LogLinesTable;
  log_drains: LogDrainsTable;
  rollout_marks: RolloutMarksTable;
  routing_changes: RoutingChangesTable;
  router_confirmations: RouterConfirmationsTable;
}

export type Database = Kysely<Schema>;

