/**
 * Domains in the store: the host names routed to an app, each optionally carrying one certificate.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Domain } from '@deis/sdk/types';
import { storeTime, wireTime } from '../clock.ts';
import type { Database, DomainsTable } from '../db/schema.ts';
import type { PageWindow } from '../http/pagination.ts';

export type DomainRow = Selectable<DomainsTable>;

export interface DomainWithNames extends DomainRow {
  owner_username: string;
  app_id: string;
}

export function toWireDomain(row: DomainWithNames): Domain {
  return { owner: row.owner_username, app: row.app_id, domain: row.domain, created: wireTime(row.created), updated: wireTime(row.updated) };
}

function withNames(db: Database) {
  return db
    .selectFrom('domains')
    .innerJoin('users', 'users.id', 'domains.owner_id')
    .innerJoin('apps', 'apps.uuid', 'domains.app_uuid')
    .selectAll('domains')
    .select(['users.username as owner_username', 'apps.id as app_id']);
}

/** One page of an app's domains, ordered by name as Deis orders them, and the total count. */
export async function pageAppDomains(db: Database, appUuid: string, window: PageWindow): Promise<{ count: number; rows: DomainWithNames[] }> {
  const counted = await db.selectFrom('domains').select((eb) => eb.fn.countAll<string | number>().as('count')).where('app_uuid', '=', appUuid).executeTakeFirstOrThrow();
  const rows = await withNames(db).where('domains.app_uuid', '=', appUuid).orderBy('domains.domain').limit(window.limit).offset(window.offset).execute();
  return { count: Number(counted.count), rows };
}

/** The names of an app's domains, ordered. */
export async function appDomainNames(db: Database, appUuid: string): Promise<string[]> {
  const rows = await db.selectFrom('domains').select('domain').where('app_uuid', '=', appUuid).orderBy('domain').execute();
  return rows.map((row) => row.domain);
}

/** A domain by its stored name, on whichever app holds it. */
export async function findDomain(db: Database, domain: string): Promise<DomainWithNames | undefined> {
  return withNames(db).where('domains.domain', '=', domain).executeTakeFirst();
}

export async function insertDomain(db: Database, values: { appUuid: string; ownerId: number; domain: string }): Promise<void> {
  const now = storeTime();
  await db
    .insertInto('domains')
    .values({ uuid: randomUUID(), app_uuid: values.appUuid, owner_id: values.ownerId, domain: values.domain, cert_id: null, created: now, updated: now })
    .execute();
}

/** @returns whether a row was removed. */
export async function deleteAppDomain(db: Database, appUuid: string, domain: string): Promise<boolean> {
  const result = await db.deleteFrom('domains').where('app_uuid', '=', appUuid).where('domain', '=', domain).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
