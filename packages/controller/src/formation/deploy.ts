/**
 * Release orchestration on the scheduler (ARCHITECTURE.md, "Deploying a release").
 * @module
 */
import { NotFoundError } from '@deis/core/errors';
import type { Container, RegistryLogin } from '@deis/scheduler/scheduler';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { appContainers } from './app-containers.ts';
import { buildType, defaultStructure, LABEL, RELEASE_TYPE } from './container-spec.ts';
import type { ReleaseBuild } from './container-spec.ts';
import { findAppByUuid, findBuild, findConfig, findReleaseByVersion, latestGoodRelease, markReleaseFailed, parseStructure, saveStructure } from './formation-store.ts';
import { withAppLock } from './formation-state.ts';
import type { AppLock } from './formation-state.ts';
import { markDraining } from './rollout-marks.ts';
import { loadReleaseContext, toReleaseBuild } from './release-context.ts';
import { runReleasePhase } from './release-phase.ts';
import type { ReleaseOutputSink } from './release-phase.ts';
import { executeRollout, rolloutTimings, stopContainers, switchRouter } from './rollout.ts';
import { rolloutError, rolloutErrorMessage } from './rollout-errors.ts';
import { notReadyNotice, watchStillStarting } from './still-starting.ts';

/**
 * The login `deis registry:set username=… password=…` gives for pulling the release's image from a private registry
 * (Deis turns the same keys into the image pull secret); none unless both are set.
 */
export function registryLogin(registryJson: string | undefined): RegistryLogin | undefined {
  const registry = JSON.parse(registryJson ?? '{}') as Record<string, unknown>;
  const { username, password } = registry;
  return typeof username === 'string' && typeof password === 'string' ? { username, password } : undefined;
}

export interface DeployRequest {
  appUuid: string;
  /** The release to roll out; already stored. */
  version: number;
  /** Who asked, for summaries and events. */
  username: string;
  /** Hears the release phase's output as it runs (release-phase.ts), e.g. to stream it into a push. */
  onReleaseOutput?: ReleaseOutputSink;
}

/**
 * The structure a release runs with (Deis `App.deploy` and `Build.save`): the default one on a first deploy; web and
 * cmd reset to the default when the build type changes; types a new Procfile dropped scaled to 0.
 */
export function nextStructure(current: Record<string, number>, build: ReleaseBuild, previous: ReleaseBuild | null, removeMissing: boolean): Record<string, number> {
  if (Object.keys(current).length === 0) return defaultStructure(build);
  const structure = { ...current };
  if (previous && buildType(previous) !== buildType(build)) {
    for (const type of ['cmd', 'web']) if (type in structure) structure[type] = 0;
    Object.assign(structure, defaultStructure(build));
  }
  if (removeMissing && previous) {
    for (const type of Object.keys(previous.procfile)) if (type !== RELEASE_TYPE && !(type in build.procfile)) structure[type] = 0;
  }
  return structure;
}

export interface DeployOutcome {
  /**
   * Set when some new containers were running but not ready when the deploy timeout ended: the release is current,
   * the previous containers keep serving, and this says so to the one who asked (see still-starting.ts).
   */
  notReadyNotice: string | null;
}

/**
 * Rolls out a stored release: new containers beside the old, readiness, router switch, old containers stopped.
 * On failure (a container that exits or cannot start, an image that cannot be had) it marks the release failed,
 * leaves the previous release serving, and throws a DeisError whose message says why (with the app's last lines).
 * New containers that keep running without passing their readiness check within the deploy timeout do not fail it:
 * it answers, and they go on being probed (see still-starting.ts). Call it after the release's transaction has
 * committed.
 */
export async function deployRelease(deps: ControllerDeps, request: DeployRequest): Promise<DeployOutcome> {
  const found = await findAppByUuid(deps.db, request.appUuid);
  if (!found) throw NotFoundError.of('App');
  return withAppLock(deps, found.id, (lock) => deployHoldingLock(deps, request, lock));
}

/** `deployRelease` for a caller that holds the app's lock already (a deploy resumed by another controller). */
export async function deployHoldingLock(deps: ControllerDeps, request: DeployRequest, lock: AppLock): Promise<DeployOutcome> {
  const outcome: DeployOutcome = { notReadyNotice: null };
  const app = await findAppByUuid(deps.db, request.appUuid);
  if (!app) throw NotFoundError.of('App');
  const release = await findReleaseByVersion(deps.db, app.uuid, request.version);
  if (!release) throw NotFoundError.of('Release');
  if (release.build_uuid === null) return outcome;
  // A newer release stored meanwhile (a config change racing a push) supersedes this one: rolling this one out now
  // would put the older build or config back. The newer one's own deploy follows.
  const newest = await latestGoodRelease(deps.db, app.uuid);
  if (newest && newest.version > release.version && newest.build_uuid !== null) return outcome;
  try {
    // An image pulled with `deis pull` may not be on the engine yet; one no registry has fails the release here.
    const buildRow = await findBuild(deps.db, release.build_uuid);
    if (buildRow) await deps.scheduler.ensureImage(buildRow.image, registryLogin((await findConfig(deps.db, release.config_uuid))?.registry));
    const context = await loadReleaseContext(deps, app, release);
    if (!context) throw new Error(`the build of release v${release.version} does not exist`);
    const previousRelease = await latestGoodRelease(deps.db, app.uuid, release.version);
    const previousBuildRow = previousRelease?.build_uuid ? await findBuild(deps.db, previousRelease.build_uuid) : undefined;
    const previousBuild = previousBuildRow ? toReleaseBuild(previousBuildRow) : null;
    const structure = nextStructure(parseStructure(app), context.build, previousBuild, deps.settings.procfileMissingRemove);
    const start = Object.fromEntries(Object.entries(structure).filter(([, count]) => count > 0));
    // Before any container of the release starts: a failing release command leaves the previous release serving.
    await runReleasePhase(deps, context, request.onReleaseOutput);
    // The pusher hears of success once the router has switched; the old containers' grace period runs on, and
    // the app stays locked until they are gone.
    let waiting: Container[] = [];
    await executeRollout(
      deps,
      { context, start, stop: await appContainers(deps, app.id) },
      { onStopping: (stopped) => lock.holdUntil(stopped), onStillStarting: (notYet) => (waiting = notYet) },
    );
    if (JSON.stringify(structure) !== app.structure) await saveStructure(deps.db, app.uuid, structure);
    if (waiting.length > 0) {
      outcome.notReadyNotice = notReadyNotice(release.version, waiting.map((c) => c.name), rolloutTimings(deps, context).timeoutMs);
      await recordEvent(deps.db, app.uuid, outcome.notReadyNotice);
      watchStillStarting(deps, context, waiting);
    }
    return outcome;
  } catch (error) {
    const summary = `${request.username} deployed ${(release.build_uuid ?? release.uuid).slice(0, 7)} which failed`;
    await markReleaseFailed(deps.db, release.uuid, summary, `error: ${rolloutErrorMessage(error)}`);
    throw rolloutError(error);
  }
}

/** Stops and removes every container of an app (on apps:destroy), one-off runs included. */
export async function removeAppContainers(deps: ControllerDeps, appId: string): Promise<void> {
  await withAppLock(deps, appId, async () => {
    const containers = await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName, [LABEL.app]: appId });
    if (containers.length === 0) return;
    await markDraining(deps, containers.map((c) => c.name));
    // The router must have let go of the containers before they stop: a removed container's address answers nothing,
    // and a request sent there would wait for the connect to time out.
    await switchRouter(deps);
    try {
      await stopContainers(deps, containers.map((c) => c.name), deps.settings.gracePeriodSeconds);
    } catch (error) {
      throw rolloutError(error, 'could not remove the containers: ');
    }
  });
}
