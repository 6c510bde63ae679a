/**
 * Creating an app and what comes with it (contract §1.4): an empty config, release v1 "<owner> created initial
 * release", the app's settings and TLS rows, and its default domain (the bare app id), all in one transaction, with
 * the event lines Deis logged for them (`config <app>-<uuid7> updated`, the release summary, `appsettings …`, `domain …`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '@deis/core/errors';
import { storeTime } from '../clock.ts';
import { EMPTY_CONFIG } from '../config/config-data.ts';
import { insertConfig } from '../config/config-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { announceRelease, insertInitialRelease } from '../releases/release-store.ts';
import { summarizeRelease } from '../releases/release-summary.ts';
import { createAppDefaults } from '../settings/app-defaults.ts';
import { appIdTaken, findAppById } from './app-store.ts';
import type { VisibleApp } from './app-store.ts';
import { checkAppName, generateAppName } from './app-names.ts';

const DUPLICATE = 'Application with this id already exists.';

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** A made-up name no app has yet; after a few clashes a number makes it unique. */
async function freeGeneratedName(deps: ControllerDeps): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const name = attempt < 10 ? generateAppName() : `${generateAppName()}-${1000 + Math.floor(Math.random() * 9000)}`;
    if (!(await appIdTaken(deps.db, name))) return name;
  }
  throw new Error('could not find a free app name');
}

/** @param id the requested name; absent, a random `adjective-noun` one. */
export async function createApp(deps: ControllerDeps, owner: { id: number; username: string }, id: string | undefined): Promise<VisibleApp> {
  if (id !== undefined) {
    checkAppName(id);
    if (await appIdTaken(deps.db, id)) throw ValidationError.field('id', DUPLICATE);
  }
  const appId = id ?? (await freeGeneratedName(deps));
  const appUuid = randomUUID();
  const now = storeTime();
  const summary = summarizeRelease(owner.username, { build: null, config: EMPTY_CONFIG }, null);
  let release;
  try {
    release = await deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('apps').values({ uuid: appUuid, id: appId, owner_id: owner.id, structure: '{}', created: now, updated: now }).execute();
      const config = await insertConfig(trx, appUuid, owner.id, EMPTY_CONFIG);
      await recordEvent(trx, appUuid, `config ${appId}-${config.uuid.slice(0, 7)} updated`);
      const release = await insertInitialRelease(trx, { appUuid, ownerId: owner.id, configUuid: config.uuid, buildUuid: null, summary });
      const { settingsUuid } = await createAppDefaults(trx, { uuid: appUuid, id: appId, owner_id: owner.id });
      await recordEvent(trx, appUuid, `appsettings ${appId}-${settingsUuid.slice(0, 7)} updated`);
      await recordEvent(trx, appUuid, `domain ${appId} added`);
      return release;
    });
  } catch (error) {
    // Another request created the same app (or took the domain) between the check and the insert.
    if (isUniqueViolation(error)) throw ValidationError.field('id', DUPLICATE);
    throw error;
  }
  deps.routing.changed();
  announceRelease(deps, { app: { uuid: appUuid, id: appId }, release, username: owner.username, sha: '' });
  const created = await findAppById(deps.db, appId);
  if (!created) throw new Error(`app ${appId} vanished after creation`);
  return created;
}
