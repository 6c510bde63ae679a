/**
 * Releases: the numbered (build, config) pairs of an app. `createRelease` is the one way a release comes to be (app
 * creation, config changes, builds, rollbacks): it numbers it, writes its summary, stores it, logs it, fires the deploy
 * hooks, and deploys it when it has a build.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { ConflictError, DeisError, ValidationError } from '@deis/core/errors';
import type { Release } from '@deis/sdk/types';
import type { BuildRow } from '../builds/build-store.ts';
import { findBuild } from '../builds/build-store.ts';
import { storeTime, wireTime } from '../clock.ts';
import { EMPTY_CONFIG } from '../config/config-data.ts';
import type { ConfigData } from '../config/config-data.ts';
import { configDataOf, findConfig, insertConfig } from '../config/config-store.ts';
import type { ConfigRow } from '../config/config-store.ts';
import { appLocksOf } from '../db/app-locks.ts';
import { pageOfAppRows, selectWithOwner } from '../db/owned-rows.ts';
import type { WithOwner } from '../db/owned-rows.ts';
import type { ReleasesTable, Schema } from '../db/schema.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { deployRelease } from '../formation/deploy.ts';
import type { ReleaseOutputSink } from '../formation/release-phase.ts';
import { sendDeployHooks } from '../hooks/deploy-hooks.ts';
import type { PageWindow } from '../http/pagination.ts';
import { summarizeRelease } from './release-summary.ts';
import { pruneAppHistory } from './retention.ts';
import type { SummarySide } from './release-summary.ts';

export type ReleaseRow = Selectable<ReleasesTable>;

export function toWireRelease(row: ReleaseRow, ownerUsername: string, appId: string): Release {
  return {
    uuid: row.uuid,
    owner: ownerUsername,
    app: appId,
    version: row.version,
    summary: row.summary,
    failed: Boolean(row.failed),
    config: row.config_uuid,
    build: row.build_uuid,
    created: wireTime(row.created),
    updated: wireTime(row.updated),
  };
}

/** The release that serves the app: the newest one that did not fail. */
export async function latestGoodRelease(db: Kysely<Schema>, appUuid: string): Promise<ReleaseRow | undefined> {
  return db.selectFrom('releases').selectAll().where('app_uuid', '=', appUuid).where('failed', '=', 0).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function latestReleaseVersion(db: Kysely<Schema>, appUuid: string): Promise<number> {
  const row = await db.selectFrom('releases').select('version').where('app_uuid', '=', appUuid).orderBy('version', 'desc').limit(1).executeTakeFirst();
  return row?.version ?? 0;
}

export async function findRelease(db: Kysely<Schema>, appUuid: string, version: number): Promise<WithOwner<'releases'> | undefined> {
  return selectWithOwner(db, 'releases').where('releases.app_uuid', '=', appUuid).where('releases.version', '=', version).executeTakeFirst();
}

/** One page of an app's releases, newest first. */
export async function listReleases(db: Kysely<Schema>, appUuid: string, window: PageWindow): Promise<{ count: number; rows: WithOwner<'releases'>[] }> {
  return pageOfAppRows(db, 'releases', appUuid, 'version', window);
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export interface StoredRelease {
  appUuid: string;
  ownerId: number;
  configUuid: string;
  buildUuid: string | null;
  summary: string;
}

/** Stores the app's next version. Two writers may pick the same number; the unique (app, version) pair decides. */
async function insertNextRelease(db: Kysely<Schema>, release: StoredRelease): Promise<ReleaseRow> {
  const version = (await latestReleaseVersion(db, release.appUuid)) + 1;
  const now = storeTime();
  const row: ReleaseRow = {
    uuid: randomUUID(),
    app_uuid: release.appUuid,
    owner_id: release.ownerId,
    version,
    summary: release.summary,
    failed: 0,
    config_uuid: release.configUuid,
    build_uuid: release.buildUuid,
    exception: null,
    // A release with a build is deployed right after its transaction; until that deploy ends it is marked.
    deploying: release.buildUuid === null ? 0 : 1,
    created: now,
    updated: now,
  };
  await db.insertInto('releases').values(row).execute();
  return row;
}

/**
 * Runs `work` in a transaction during which no other change of the app is stored, by this controller or another on
 * the same store (db/app-locks.ts), again when a writer outside that lock (app creation) took the same number.
 */
async function oneChangeAtATime<T>(db: Kysely<Schema>, appUuid: string, work: (trx: Kysely<Schema>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await appLocksOf(db).transaction(db, `change:${appUuid}`, work);
    } catch (error) {
      if (attempt >= 5 || !isUniqueViolation(error)) throw error;
    }
  }
}

/**
 * Stores a release and its summary line in the app's events. Events go in the release's own transaction: one commit
 * per release, and no release without its log line.
 */
async function storeRelease(trx: Kysely<Schema>, release: StoredRelease): Promise<ReleaseRow> {
  const row = await insertNextRelease(trx, release);
  await recordEvent(trx, release.appUuid, row.summary);
  return row;
}

/**
 * Stores release v1 of a new app inside the caller's transaction (the app's other rows come with it); the caller
 * announces it with `announceRelease` once committed.
 */
export async function insertInitialRelease(trx: Kysely<Schema>, release: StoredRelease): Promise<ReleaseRow> {
  return storeRelease(trx, release);
}

export interface ReleaseAnnouncement {
  app: { uuid: string; id: string };
  release: ReleaseRow;
  username: string;
  sha: string;
}

/** Fires the deploy hooks of a committed release without waiting for them. */
export function announceRelease(deps: ControllerDeps, announcement: ReleaseAnnouncement): void {
  const { app, release } = announcement;
  if (deps.settings.deployHookUrls.length > 0) {
    void sendDeployHooks(deps, { appUuid: app.uuid, appId: app.id, version: release.version, summary: release.summary, sha: announcement.sha, username: announcement.username });
  }
}

/** A release request's config: the one in force when the release is stored (a build keeps the app's config). */
export const IN_FORCE = 'in-force';
type IN_FORCE = typeof IN_FORCE;

export interface ReleaseRequest {
  app: { uuid: string; id: string };
  user: { id: number; username: string };
  /**
   * An existing config row, or a new one derived from the config in force, stored together with the release.
   * `derive` runs while no other change of the app is being stored, so concurrent changes build on each other.
   */
  config: { uuid: string } | { derive: (current: ConfigData) => ConfigData } | IN_FORCE;
  /** The release's build; absent, the build of the release in force (a config change keeps it). */
  build?: BuildRow | null;
  /** Given by rollbacks; otherwise made from what changed since the latest good release (409 when nothing did). */
  summary?: string;
  /** The summary the release gets if its deploy fails, e.g. `alice deployed a config that failed`. */
  failureSummary: string;
  /** Hears the output of the release's Procfile `release:` command as it runs (formation/release-phase.ts). */
  onReleaseOutput?: ReleaseOutputSink;
  /**
   * Set: nothing is stored if `build` has a release already (a retried build hook, builds/retried-build.ts); the
   * check runs under the app's change lock, so two controllers never both release one build.
   */
  onceForBuild?: boolean;
}

/** `createRelease` with `onceForBuild` found the build released already, as version `version`. */
export class BuildAlreadyReleased extends Error {
  readonly version: number;
  constructor(version: number) {
    super(`the build has release v${version} already`);
    this.name = 'BuildAlreadyReleased';
    this.version = version;
  }
}

export interface CreatedRelease {
  release: ReleaseRow;
  /** Set when the request brought new config data. */
  config: ConfigRow | null;
  /** Set when the release is current but some of its new containers are not ready yet (see deploy.ts). */
  notReadyNotice: string | null;
}

/** The release's deploy has ended, however it ended. */
async function endDeploying(db: Kysely<Schema>, releaseUuid: string): Promise<void> {
  await db.updateTable('releases').set({ deploying: 0 }).where('uuid', '=', releaseUuid).execute();
}

/** Marks a release failed after its deploy did not succeed; a reason the deploy already stored is kept. */
export async function markReleaseFailed(db: Kysely<Schema>, releaseUuid: string, summary: string, reason: string): Promise<void> {
  await db
    .updateTable('releases')
    .set((eb) => ({ failed: 1, summary, exception: eb.fn.coalesce('exception', eb.val(`error: ${reason}`)), updated: storeTime() }))
    .where('uuid', '=', releaseUuid)
    .execute();
}

/**
 * Creates release v(N+1) of an app and, when it has a build, deploys it. A failed deploy leaves the release stored
 * and marked failed, and the error (a DeisError) propagates to the caller.
 */
export async function createRelease(deps: ControllerDeps, request: ReleaseRequest): Promise<CreatedRelease> {
  const { db } = deps;
  const { release, config, build } = await oneChangeAtATime(db, request.app.uuid, async (trx) => {
    if (request.onceForBuild && request.build) {
      const released = await trx.selectFrom('releases').select('version').where('build_uuid', '=', request.build.uuid).orderBy('version').executeTakeFirst();
      if (released) throw new BuildAlreadyReleased(released.version);
    }
    const previous = await latestGoodRelease(trx, request.app.uuid);
    let previousSide: SummarySide | null = null;
    let previousBuild: BuildRow | null = null;
    if (previous) {
      const previousConfig = await findConfig(trx, previous.config_uuid);
      previousBuild = previous.build_uuid ? ((await findBuild(trx, previous.build_uuid)) ?? null) : null;
      if (!previousConfig) throw new Error(`release ${previous.uuid} has no config`);
      previousSide = { build: previousBuild, config: configDataOf(previousConfig) };
    }
    const build = request.build === undefined ? previousBuild : request.build;
    let configData: ConfigData;
    // The config in force when the release is stored, not when it was asked for: a concurrent change is kept.
    const asked = request.config === IN_FORCE ? { uuid: previous?.config_uuid ?? '' } : request.config;
    if ('derive' in asked) {
      configData = asked.derive(previousSide?.config ?? EMPTY_CONFIG);
    } else if (previousSide && previous?.config_uuid === asked.uuid) {
      configData = previousSide.config;
    } else {
      const row = await findConfig(trx, asked.uuid);
      if (!row) throw new Error(`config ${asked.uuid} does not exist`);
      configData = configDataOf(row);
    }
    const summary = request.summary ?? summarizeRelease(request.user.username, { build, config: configData }, previousSide);
    if (summary === '') throw new ConflictError(`${request.user.username} changed nothing - release stopped`);

    const config = 'derive' in asked ? await insertConfig(trx, request.app.uuid, request.user.id, configData) : null;
    if (config) await recordEvent(trx, request.app.uuid, `config ${request.app.id}-${config.uuid.slice(0, 7)} updated`);
    const release = await storeRelease(trx, {
      appUuid: request.app.uuid,
      ownerId: request.user.id,
      configUuid: config ? config.uuid : (asked as { uuid: string }).uuid,
      buildUuid: build?.uuid ?? null,
      summary,
    });
    return { release, config, build };
  });
  announceRelease(deps, { app: request.app, release, username: request.user.username, sha: build?.sha ?? '' });

  let notReadyNotice: string | null = null;
  if (release.build_uuid !== null) {
    try {
      ({ notReadyNotice } = await deployRelease(deps, { appUuid: request.app.uuid, version: release.version, username: request.user.username, onReleaseOutput: request.onReleaseOutput }));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await markReleaseFailed(db, release.uuid, request.failureSummary, reason);
      if (error instanceof DeisError) throw error;
      throw new ValidationError(reason, { cause: error });
    } finally {
      await endDeploying(db, release.uuid);
    }
  }
  // The release stands whatever pruning meets; the next release prunes again.
  await pruneAppHistory(deps, request.app).catch(() => undefined);
  return { release, config, notReadyNotice };
}
