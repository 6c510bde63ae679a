/**
 * The routing table the router renders nginx's configuration from: every routable app with its host names, the
 * containers that serve it, maintenance, whitelist, TLS enforcement and certificates, plus the controller and
 * builder routes. Domains, certs, settings and TLS rows are read straight from the store, so the table never depends
 * on how their routes are written.
 * @module
 */
import type { AppRoute, RouteCertificate, RouteUpstream, RoutingTable } from '@deis/sdk/types';
import type { AppRow } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { upstreamsByApp } from '../formation/upstreams.ts';

/** Where an app's ready containers come from. */
export type UpstreamSource = (deps: ControllerDeps, app: AppRow) => Promise<RouteUpstream[]>;

// The router's own tests run a real controller and real nginx, but the fake scheduler's containers have addresses
// nothing listens on; this lets such a test point an app at servers of its own.
const upstreamSources = new WeakMap<ControllerDeps, UpstreamSource>();

/** Replaces where the table's upstreams come from, for this controller only (tests of the router). */
export function useUpstreamSource(deps: ControllerDeps, source: UpstreamSource): void {
  upstreamSources.set(deps, source);
}

/** `foo` (a bare name, as Deis stores the app's own domain) is served as `foo.<platformDomain>`. */
export function fullHostName(domain: string, platformDomain: string): string {
  const name = domain.trim().toLowerCase().replace(/\.$/, '');
  return name.includes('.') ? name : `${name}.${platformDomain}`;
}

function jsonArray(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** The newest row per app of a versioned table (app settings, TLS), by `created`. */
function newestPerApp<T extends { app_uuid: string; created: string }>(rows: T[]): Map<string, T> {
  const newest = new Map<string, T>();
  for (const row of rows) {
    const seen = newest.get(row.app_uuid);
    if (!seen || row.created >= seen.created) newest.set(row.app_uuid, row);
  }
  return newest;
}

export interface RoutingTableOptions {
  /** The port the controller really listens on, when its settings say 0 (any free port). */
  controllerPort?: number;
}

/** Loopback when the controller listens on every address; that is how the router, on this host, reaches it. */
function controllerUpstream(deps: ControllerDeps, options: RoutingTableOptions): RouteUpstream {
  if (deps.settings.controllerUpstream) return deps.settings.controllerUpstream;
  const host = ['', '0.0.0.0', '::'].includes(deps.settings.host) ? '127.0.0.1' : deps.settings.host;
  return { host, port: deps.settings.port === 0 && options.controllerPort ? options.controllerPort : deps.settings.port };
}

/**
 * Builds the table as it stands now. The generation is read first: a change that lands while the table is being read
 * makes a newer generation, so the router asks again and never keeps a table older than the generation it reports.
 */
export async function buildRoutingTable(deps: ControllerDeps, options: RoutingTableOptions = {}): Promise<RoutingTable> {
  const generation = await deps.routing.tableGeneration();
  const { db } = deps;
  const platformDomain = deps.settings.platformDomain;

  const [apps, domains, settingsRows, tlsRows] = await Promise.all([
    db.selectFrom('apps').selectAll().orderBy('id').execute(),
    db
      .selectFrom('domains')
      .leftJoin('certs', 'certs.id', 'domains.cert_id')
      .select(['domains.app_uuid', 'domains.domain', 'certs.name as cert_name', 'certs.certificate', 'certs.key'])
      .orderBy('domains.domain')
      .execute(),
    db.selectFrom('app_settings').select(['app_uuid', 'maintenance', 'routable', 'whitelist', 'created']).orderBy('created').execute(),
    db.selectFrom('tls').select(['app_uuid', 'https_enforced', 'created']).orderBy('created').execute(),
  ]);
  const settingsByApp = newestPerApp(settingsRows);
  const tlsByApp = newestPerApp(tlsRows);
  // One listing of the engine for the whole table, not one per app: the table is rebuilt on every deploy.
  const override = upstreamSources.get(deps);
  const upstreams = override ? null : await upstreamsByApp(deps);
  const domainsByApp = new Map<string, typeof domains>();
  for (const row of domains) {
    const rows = domainsByApp.get(row.app_uuid);
    if (rows) rows.push(row);
    else domainsByApp.set(row.app_uuid, [row]);
  }

  const routes: AppRoute[] = [];
  for (const app of apps) {
    const settings = settingsByApp.get(app.uuid);
    if (settings && !settings.routable) continue;
    const hostNames = new Set<string>([fullHostName(app.id, platformDomain)]);
    const certificates: Record<string, RouteCertificate> = {};
    for (const row of domainsByApp.get(app.uuid) ?? []) {
      const hostName = fullHostName(row.domain, platformDomain);
      hostNames.add(hostName);
      if (row.cert_name && row.certificate && row.key) certificates[hostName] = { name: row.cert_name, certificate: row.certificate, key: row.key };
    }
    routes.push({
      app: app.id,
      domains: [...hostNames],
      upstreams: override ? await override(deps, app) : (upstreams?.get(app.id) ?? []),
      maintenance: Boolean(settings?.maintenance),
      whitelist: settings ? jsonArray(settings.whitelist) : [],
      httpsEnforced: Boolean(tlsByApp.get(app.uuid)?.https_enforced),
      certificates,
    });
  }

  return {
    generation,
    platformDomain,
    controller: controllerUpstream(deps, options),
    builder: deps.settings.builderHttpUpstream ?? null,
    apps: routes,
  };
}
