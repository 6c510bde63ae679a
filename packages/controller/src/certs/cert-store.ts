/**
 * Certificates in the store. Each belongs to the user who uploaded it and is attached to domains through
 * `domains.cert_id`; its key is stored for the router and never leaves the controller through the API.
 * @module
 */
import type { Cert } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import { selectWithOwner } from '../db/owned-rows.ts';
import type { WithOwner } from '../db/owned-rows.ts';
import type { Database } from '../db/schema.ts';
import type { PageWindow } from '../http/pagination.ts';
import type { CertificateFacts } from './certificate-pem.ts';

export type CertRow = WithOwner<'certs'>;

export function toWireCert(row: CertRow, domains: string[]): Cert {
  return {
    id: row.id,
    owner: row.owner_username,
    name: row.name,
    common_name: row.common_name,
    san: JSON.parse(row.san) as string[],
    domains,
    fingerprint: row.fingerprint,
    expires: wireTime(row.expires),
    starts: wireTime(row.starts),
    issuer: row.issuer,
    subject: row.subject,
    created: wireTime(row.created),
    updated: wireTime(row.updated),
  };
}

/** The domains each of the given certificates is attached to, by certificate id, ordered by name. */
export async function attachedDomains(db: Database, certIds: number[]): Promise<Map<number, string[]>> {
  const byCert = new Map<number, string[]>(certIds.map((id) => [id, []]));
  if (certIds.length === 0) return byCert;
  const rows = await db.selectFrom('domains').select(['cert_id', 'domain']).where('cert_id', 'in', certIds).orderBy('domain').execute();
  for (const row of rows) if (row.cert_id !== null) byCert.get(row.cert_id)?.push(row.domain);
  return byCert;
}

export async function pageOwnCerts(db: Database, ownerId: number, window: PageWindow): Promise<{ count: number; rows: CertRow[] }> {
  const counted = await db.selectFrom('certs').select((eb) => eb.fn.countAll<string | number>().as('count')).where('owner_id', '=', ownerId).executeTakeFirstOrThrow();
  const rows = await selectWithOwner(db, 'certs').where('certs.owner_id', '=', ownerId).orderBy('certs.name').limit(window.limit).offset(window.offset).execute();
  return { count: Number(counted.count), rows };
}

export async function findOwnCert(db: Database, ownerId: number, name: string): Promise<CertRow | undefined> {
  return selectWithOwner(db, 'certs').where('certs.owner_id', '=', ownerId).where('certs.name', '=', name).executeTakeFirst();
}

export async function certNameTaken(db: Database, name: string): Promise<boolean> {
  return (await db.selectFrom('certs').select('id').where('name', '=', name).executeTakeFirst()) !== undefined;
}

export async function insertCert(db: Database, values: { ownerId: number; name: string; certificate: string; key: string; facts: CertificateFacts }): Promise<void> {
  const now = storeTime();
  const { facts } = values;
  await db
    .insertInto('certs')
    .values({
      owner_id: values.ownerId,
      name: values.name,
      certificate: values.certificate,
      key: values.key,
      common_name: facts.commonName,
      san: JSON.stringify(facts.san),
      fingerprint: facts.fingerprint,
      expires: storeTime(facts.expires),
      starts: storeTime(facts.starts),
      issuer: facts.issuer,
      subject: facts.subject,
      created: now,
      updated: now,
    })
    .execute();
}

/** Detaches the certificate from every domain, then removes it. @returns whether any domain was attached. */
export async function deleteCert(db: Database, certId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const detached = await trx.updateTable('domains').set({ cert_id: null, updated: storeTime() }).where('cert_id', '=', certId).executeTakeFirst();
    await trx.deleteFrom('certs').where('id', '=', certId).execute();
    return Number(detached.numUpdatedRows) > 0;
  });
}

/** Sets or clears a domain's certificate. */
export async function setDomainCert(db: Database, domain: string, certId: number | null): Promise<void> {
  await db.updateTable('domains').set({ cert_id: certId, updated: storeTime() }).where('domain', '=', domain).execute();
}

/** The certificate and key attached to each of an app's domains, by domain: what the router serves TLS with. */
export async function appCertificates(db: Database, appUuid: string): Promise<Map<string, { name: string; certificate: string; key: string }>> {
  const rows = await db
    .selectFrom('domains')
    .innerJoin('certs', 'certs.id', 'domains.cert_id')
    .select(['domains.domain', 'certs.name', 'certs.certificate', 'certs.key'])
    .where('domains.app_uuid', '=', appUuid)
    .orderBy('domains.domain')
    .execute();
  return new Map(rows.map((row) => [row.domain, { name: row.name, certificate: row.certificate, key: row.key }]));
}
