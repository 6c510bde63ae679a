/**
 * Creating a build (from `deis pull` or the builder's hook): validate it, store it, and make and deploy the release
 * that runs it.
 * @module
 */
import { ConflictError, ValidationError } from '@deis/core/errors';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { RELEASE_TYPE } from '../formation/container-spec.ts';
import type { ReleaseOutputSink } from '../formation/release-phase.ts';
import { optionalString, requiredString } from '../http/body.ts';
import { createRelease, IN_FORCE, latestGoodRelease } from '../releases/release-store.ts';
import type { CreatedRelease } from '../releases/release-store.ts';
import { findBuild, findBuildByRequest, insertBuild, procfileOf } from './build-store.ts';
import type { BuildRow, NewBuild } from './build-store.ts';
import { finishRetriedBuild } from './retried-build.ts';

const PROC_TYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** `procfile` as an object of `type: command`, given as an object or as JSON text. */
function parseProcfile(raw: unknown): Record<string, string> {
  let value = raw;
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw ValidationError.field('procfile', 'Value must be valid JSON.');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw ValidationError.field('procfile', 'Must be a dictionary.');
  const procfile: Record<string, string> = {};
  for (const [type, command] of Object.entries(value as Record<string, unknown>)) {
    if (command === null || command === undefined || command === '' || typeof command === 'object') {
      throw ValidationError.field('procfile', "Command can't be empty for process type");
    }
    if (!PROC_TYPE.test(type)) throw ValidationError.field('procfile', 'Process types can only contain lowercase alphanumeric characters');
    procfile[type] = String(command);
  }
  return procfile;
}

/** The build fields of a POST body (`image` required; `procfile`, `sha`, `dockerfile` optional). */
export function parseNewBuild(body: Record<string, unknown>): NewBuild {
  return {
    image: requiredString(body, 'image'),
    sha: optionalString(body, 'sha') ?? '',
    procfile: parseProcfile(body.procfile),
    dockerfile: optionalString(body, 'dockerfile') ?? '',
  };
}

export interface BuildResult extends CreatedRelease {
  build: BuildRow;
}

/**
 * Stores the build and creates and deploys its release. With DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING, a Procfile that
 * drops a type the serving build has is refused (409) before anything is stored.
 */
export async function createBuild(
  deps: ControllerDeps,
  app: { uuid: string; id: string },
  user: { id: number; username: string },
  build: NewBuild,
  onReleaseOutput?: ReleaseOutputSink,
): Promise<BuildResult> {
  // The builder's retry of a hook another controller took (ADR 0021): that build, not a second one.
  const earlier = build.requestId ? await findBuildByRequest(deps.db, app.uuid, build.requestId) : undefined;
  if (earlier) return { ...(await finishRetriedBuild(deps, app, user, earlier, onReleaseOutput)), build: earlier };
  const serving = await latestGoodRelease(deps.db, app.uuid);
  if (!serving) throw new Error(`app ${app.id} has no release`);
  const previousBuild = serving.build_uuid ? await findBuild(deps.db, serving.build_uuid) : undefined;
  if (previousBuild && deps.settings.rejectIfProcfileMissing) {
    const missing = Object.keys(procfileOf(previousBuild)).filter((type) => type !== RELEASE_TYPE && !(type in build.procfile));
    if (missing.length > 0) {
      throw new ConflictError(`Build rejected: the Procfile no longer declares ${missing.join(', ')}, which the current build runs.`, {
        hint: 'Add the process types back to the Procfile, or scale them to 0 and unset DEIS_DEPLOY_REJECT_IF_PROCFILE_MISSING.',
      });
    }
  }
  const row = await deps.db.transaction().execute(async (trx) => {
    const row = await insertBuild(trx, app.uuid, user.id, build);
    await recordEvent(trx, app.uuid, `build ${app.id}-${row.uuid.slice(0, 7)} created`);
    return row;
  });
  const created = await createRelease(deps, {
    app,
    user,
    config: IN_FORCE,
    build: row,
    failureSummary: `${user.username} deployed ${row.uuid.slice(0, 7)} which failed`,
    ...(onReleaseOutput ? { onReleaseOutput } : {}),
  });
  return { ...created, build: row };
}
