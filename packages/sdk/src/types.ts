/**
 * Wire types of the Deis Workflow API 2.3, field for field as ../shared/reference/deis-v2-contract.md §1.3 lists them.
 * Dates are strings in the form `2016-09-01T12:00:00Z`.
 * @module
 */

export const API_VERSION = '2.3';
export const PLATFORM_VERSION = '2.3.0';

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface User {
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  is_superuser: boolean;
  is_staff: boolean;
  is_active: boolean;
  last_login: string | null;
  date_joined: string;
  groups: never[];
  user_permissions: never[];
}

export interface App {
  uuid: string;
  id: string;
  owner: string;
  /** Desired container count per process type, e.g. `{"web": 3}`. */
  structure: Record<string, number>;
  created: string;
  updated: string;
}

export interface Key {
  uuid: string;
  owner: string;
  id: string;
  public: string;
  /** MD5 of the decoded key blob in colon hex, e.g. `54:6d:da:…`. */
  fingerprint: string;
  created: string;
  updated: string;
}

export interface Build {
  uuid: string;
  owner: string;
  app: string;
  image: string;
  sha: string;
  procfile: Record<string, string>;
  dockerfile: string;
  created: string;
  updated: string;
}

/** One probe, in the Kubernetes shape the v2 contract keeps. */
export interface Probe {
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  httpGet?: { path?: string; port?: number; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number };
  exec?: { command: string[] };
}

export interface Healthcheck {
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}

export interface Config {
  uuid: string;
  owner: string;
  app: string;
  /** Values are always strings on the wire, whatever was sent. */
  values: Record<string, string>;
  memory: Record<string, string>;
  cpu: Record<string, string>;
  tags: Record<string, string>;
  registry: Record<string, string>;
  /** Keyed by process type; `web/cmd` applies to both. */
  healthcheck: Record<string, Healthcheck>;
  created: string;
  updated: string;
}

export interface Release {
  uuid: string;
  owner: string;
  app: string;
  version: number;
  summary: string;
  failed: boolean;
  config: string;
  build: string | null;
  created: string;
  updated: string;
}

export interface Domain {
  owner: string;
  app: string;
  domain: string;
  created: string;
  updated: string;
}

export interface Cert {
  id: number;
  owner: string;
  name: string;
  common_name: string | null;
  san: string[];
  domains: string[];
  fingerprint: string;
  expires: string;
  starts: string;
  issuer: string;
  subject: string;
  created: string;
  updated: string;
}

export type PodState = 'up' | 'down' | 'crashed' | 'starting' | 'terminating' | 'unknown';

export interface Pod {
  /** `{app}-{type}-{8 to 10 digits}-{5 of [a-z0-9]}` */
  name: string;
  state: PodState;
  type: string;
  /** `v2` */
  release: string;
  started: string;
  /**
   * Ours, beside the contract's fields: how often the platform restarted the container in place after it exited
   * (a crashed pod waiting for its restart is listed, with its state `crashed`).
   */
  restarts?: number;
}

export interface Autoscale {
  min: number;
  max: number;
  cpu_percent: number;
}

export interface AppSettings {
  uuid: string;
  owner: string;
  app: string;
  maintenance: boolean;
  routable: boolean;
  whitelist: string[];
  autoscale: Record<string, Autoscale>;
  label: Record<string, string>;
  created: string;
  updated: string;
}

export interface Tls {
  uuid: string;
  owner: string;
  app: string;
  https_enforced: boolean | null;
  created: string;
  updated: string;
}

export interface RunResult {
  exit_code: number;
  output: string;
}

// ---- builder hooks (X-Deis-Builder-Auth) ----------------------------------------------------------------------------

export interface KeyHookResponse {
  username: string;
  apps: string[];
}

export interface BuildHookRequest {
  receive_user: string;
  receive_repo: string;
  image: string;
  sha: string;
  procfile: Record<string, string>;
  /** `"true"` (or the Dockerfile text) for a Dockerfile build; empty for a buildpack build. */
  dockerfile: string;
  /**
   * Names this push's hook call: the builder sends the same one again when it retries on another controller, and a
   * controller that finds a build with it finishes that build's release instead of making another (ADR 0021).
   */
  request_id?: string;
}

export interface BuildHookResponse {
  release: { version: number };
}

/**
 * The build hook's streamed answer (platform-internal): asked for with `Accept: application/x-ndjson`, it is one JSON
 * object a line, the release phase's output and the deploy's warnings as they come, then the outcome, the status and
 * body the plain answer would have had.
 */
export const BUILD_HOOK_STREAM_TYPE = 'application/x-ndjson';
export type BuildHookStreamLine = { output: string } | { warning: string } | { status: number; body: unknown };

// ---- routing table (controller → router; platform-internal, not part of Deis v2) -------------------------------------

/** One container that may receive traffic. */
export interface RouteUpstream {
  host: string;
  port: number;
}

export interface RouteCertificate {
  name: string;
  certificate: string;
  key: string;
}

export interface AppRoute {
  app: string;
  /** Full host names; `*.example.com` wildcards allowed. */
  domains: string[];
  /** Ready `web`/`cmd` containers; empty means 503. */
  upstreams: RouteUpstream[];
  maintenance: boolean;
  /** Addresses or CIDRs; empty means everyone. */
  whitelist: string[];
  httpsEnforced: boolean;
  /** Certificate per domain that has one attached. */
  certificates: Record<string, RouteCertificate>;
}

export interface RoutingTable {
  /** Increases on every change; the router reports the one it has applied. */
  generation: number;
  platformDomain: string;
  /** Where the router sends `deis.<platformDomain>`. */
  controller: RouteUpstream;
  /** Where the router sends `deis-builder.<platformDomain>` (git over smart HTTP); null when no builder runs. */
  builder: RouteUpstream | null;
  apps: AppRoute[];
}

/** `GET /v2/nodes/` (admins; an extension, Deis v2 had none): a machine the platform runs containers on. */
export interface PlatformNode {
  id: string;
  hostname: string;
  /** null when the scheduler does not know one (the one host of the docker backend). */
  address: string | null;
  state: 'ready' | 'down';
  availability: 'active' | 'pause' | 'drain';
  role: 'manager' | 'worker';
  /** What an app's tags (`deis tags:set`) are matched against. */
  labels: Record<string, string>;
  /** The platform's containers running on it. */
  containers: number;
}
