/**
 * What the routing table needs to know of an app besides its containers: its domains, the certificate attached to
 * each, and the settings the router enforces (maintenance, routable, whitelist, https). These readers never write:
 * an app without settings or TLS rows reads as the defaults.
 * @module
 */
import type { RouteCertificate } from '@deis/sdk/types';
import type { Database } from '../db/schema.ts';
import { latestRowOfEveryApp } from '../db/versioned-rows.ts';
import { DEFAULT_SETTINGS, latestSettings, settingsValues } from '../settings/settings-store.ts';
import { latestTls } from '../tls/tls-store.ts';
import { appCertificates } from '../certs/cert-store.ts';
import { appDomainNames } from './domain-store.ts';

export interface AppRoutingFacts {
  /** The app's id (its name). */
  app: string;
  appUuid: string;
  /** As stored, ordered: a name without a dot is bare (served as `<name>.<platform domain>`); `*.x` wildcards. */
  domains: string[];
  /** The certificate attached to a domain, by domain (only domains that have one). */
  certificates: Record<string, RouteCertificate>;
  maintenance: boolean;
  routable: boolean;
  /** Addresses or CIDRs allowed in; empty means everyone. */
  whitelist: string[];
  httpsEnforced: boolean;
}

export async function appRoutingFacts(db: Database, app: { uuid: string; id: string }): Promise<AppRoutingFacts> {
  const [domains, certificates, settings, tls] = await Promise.all([appDomainNames(db, app.uuid), appCertificates(db, app.uuid), latestSettings(db, app.uuid), latestTls(db, app.uuid)]);
  const values = settings ? settingsValues(settings) : DEFAULT_SETTINGS;
  return {
    app: app.id,
    appUuid: app.uuid,
    domains,
    certificates: Object.fromEntries(certificates),
    maintenance: values.maintenance,
    routable: values.routable,
    whitelist: [...values.whitelist],
    httpsEnforced: tls?.https_enforced === 1,
  };
}

/** The facts of every app, by app id, in a fixed number of queries whatever the number of apps. */
export async function allAppRoutingFacts(db: Database): Promise<Map<string, AppRoutingFacts>> {
  const apps = await db.selectFrom('apps').select(['uuid', 'id']).orderBy('id').execute();
  const domains = await db
    .selectFrom('domains')
    .leftJoin('certs', 'certs.id', 'domains.cert_id')
    .select(['domains.app_uuid', 'domains.domain', 'certs.name', 'certs.certificate', 'certs.key'])
    .orderBy('domains.domain')
    .execute();
  const settings = await latestRowOfEveryApp(db, 'app_settings');
  const tls = await latestRowOfEveryApp(db, 'tls');

  const byUuid = new Map<string, AppRoutingFacts>();
  for (const app of apps) {
    byUuid.set(app.uuid, { app: app.id, appUuid: app.uuid, domains: [], certificates: {}, maintenance: DEFAULT_SETTINGS.maintenance, routable: DEFAULT_SETTINGS.routable, whitelist: [], httpsEnforced: false });
  }
  for (const row of domains) {
    const facts = byUuid.get(row.app_uuid);
    if (!facts) continue;
    facts.domains.push(row.domain);
    if (row.name !== null && row.certificate !== null && row.key !== null) facts.certificates[row.domain] = { name: row.name, certificate: row.certificate, key: row.key };
  }
  for (const row of settings) {
    const facts = byUuid.get(row.app_uuid);
    if (!facts) continue;
    const values = settingsValues(row);
    Object.assign(facts, { maintenance: values.maintenance, routable: values.routable, whitelist: values.whitelist });
  }
  for (const row of tls) {
    const facts = byUuid.get(row.app_uuid);
    if (facts) facts.httpsEnforced = row.https_enforced === 1;
  }
  return new Map([...byUuid.values()].map((facts) => [facts.app, facts]));
}
