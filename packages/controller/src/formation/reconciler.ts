/**
 * Converges the containers of every app to its desired state: the newest good release, as many containers per type
 * as the structure says. It replaces crashed or missing containers, removes extra ones and those of older releases,
 * so apps come back after a crash or a platform restart with nobody acting, and replaces containers that keep failing
 * their liveness probe, but leaves older containers serving while new ones a deploy left still starting are probed
 * (still-starting.ts). It runs at start, periodically, and soon after the engine reports a container exiting. A
 * periodic pass lists the engine once for every app, however many there are.
 * @module
 */
import { NotReadyError } from '@deis/scheduler/scheduler';
import type { Container } from '@deis/scheduler/scheduler';
import { findAppById } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { appContainers, containersByApp } from './app-containers.ts';
import { LABEL, livenessCheck, RUN_TYPE } from './container-spec.ts';
import type { ReleaseContext } from './container-spec.ts';
import { appsWithBuilds, findAppByUuid, latestGoodRelease, parseStructure } from './formation-store.ts';
import type { FormationApp } from './formation-store.ts';
import { formationState, isAppBusy, lockReleasedSince, lockMarks, withAppLock } from './formation-state.ts';
import type { LockMarks } from './formation-state.ts';
import { loadReleaseContext } from './release-context.ts';
import { planFormation } from './formation-plan.ts';
import { executeRollout } from './rollout.ts';
import { isStillStarting } from './still-starting.ts';

/** New containers one app gets per pass, so a crash-looping app cannot flood the engine. */
const MAX_STARTS_PER_PASS = 10;
/** How long an exit counts towards an app's crash-loop backoff. */
const CRASH_WINDOW_MS = 5 * 60 * 1000;
/** The longest an app that keeps failing to converge waits for its next try. */
const MAX_RETRY_DELAY_MS = 10 * 60 * 1000;
/**
 * Apps converged at once. An app's pass can wait on its containers' grace period or readiness timeout (bounded by the
 * limits, but minutes still); one at a time, one slow app would hold every other app's pass back.
 */
export const PARALLEL_APPS = 4;

export interface ReconcilerOptions {
  intervalMs: number;
  /** How soon after a container exits its app is looked at; default 1 s. */
  reactAfterMs?: number;
  /** Told about each app that could not be converged, or with WHOLE_PASS about a pass that failed; the next pass tries again. */
  onError?: (appId: string, error: unknown) => void;
}

/** The app id onError is given when a pass could not even read the apps or list the engine. */
export const WHOLE_PASS = '*';

export interface Reconciler {
  /** Runs one pass over every app now (and waits for it). */
  reconcileNow(): Promise<void>;
  /** Stops the timer and the event subscription, then waits for a pass in progress. */
  stop(): Promise<void>;
}

export interface ReconcileOptions {
  /**
   * Given: containers with a liveness probe are checked, and one that has failed its probe `failureThreshold` passes
   * in a row is replaced. Holds the failure counts between passes.
   */
  livenessFailures?: Map<string, number>;
  /**
   * Given: the pass's one listing of every app's containers, used for this app unless its lock has been held since
   * (then the app's containers are listed again).
   */
  listing?: PlatformListing;
}

/** Every app's containers from one listing, with where the apps' locks stood just before it was made. */
export interface PlatformListing {
  byApp: Map<string, Container[]>;
  marks: LockMarks;
}

export async function listPlatform(deps: ControllerDeps): Promise<PlatformListing> {
  const marks = lockMarks(deps);
  return { byApp: await containersByApp(deps), marks };
}

/** The containers whose liveness probe has now failed often enough in a row to be replaced. */
async function failingLiveness(deps: ControllerDeps, context: ReleaseContext, containers: Container[], failures: Map<string, number>): Promise<Set<string>> {
  const dead = new Set<string>();
  await Promise.all(
    containers.map(async (container) => {
      const liveness = livenessCheck(context, container.labels[LABEL.type] ?? '');
      if (!liveness || container.state !== 'up') return;
      if (container.startedAt && Date.now() - container.startedAt.getTime() < liveness.initialDelayMs) return;
      try {
        await deps.scheduler.waitReady(container.name, liveness.check, liveness.timeoutMs);
        failures.delete(container.name);
      } catch (error) {
        // The engine failing says nothing about the app.
        if (!(error instanceof NotReadyError)) return;
        const count = (failures.get(container.name) ?? 0) + 1;
        failures.set(container.name, count);
        if (count >= liveness.failureThreshold) dead.add(container.name);
      }
    }),
  );
  return dead;
}

/**
 * Brings one app to its desired state. A newest release that has no containers yet while older ones run is being
 * deployed by its own deployRelease; it is left alone for a while so the deploy's failure handling stays in charge.
 */
export async function reconcileApp(deps: ControllerDeps, appUuid: string, options: ReconcileOptions = {}): Promise<void> {
  const found = await findAppByUuid(deps.db, appUuid);
  if (!found || isAppBusy(deps, found.id)) return;
  await withAppLock(deps, found.id, async () => {
    const app = await findAppByUuid(deps.db, appUuid);
    if (!app) return;
    const release = await latestGoodRelease(deps.db, app.uuid);
    if (!release || release.build_uuid === null) return;
    const { listing } = options;
    const containers = listing && !lockReleasedSince(deps, listing.marks, app.id) ? (listing.byApp.get(app.id) ?? []) : await appContainers(deps, app.id);
    const version = `v${release.version}`;
    const current = containers.filter((c) => c.labels[LABEL.release] === version);
    const older = containers.filter((c) => c.labels[LABEL.release] !== version);
    const age = Date.now() - new Date(release.created).getTime();
    if (current.length === 0 && older.length > 0 && age < 2 * deps.settings.deployTimeoutMs) return;

    const context = await loadReleaseContext(deps, app, release);
    if (!context) return;
    const leaving = new Set(formationState(deps).draining);
    // New containers a deploy left still starting are being probed; until they pass, the older ones keep serving.
    const stillStarting = current.filter((c) => isStillStarting(deps, c.name));
    if (options.livenessFailures) {
      const failures = options.livenessFailures;
      const names = new Set(current.map((c) => c.name));
      for (const name of failures.keys()) if (name.startsWith(`${app.id}-`) && !names.has(name)) failures.delete(name);
      const probed = current.filter((c) => !stillStarting.includes(c));
      for (const name of await failingLiveness(deps, context, probed, failures)) leaving.add(name);
    }
    const structure = parseStructure(app);
    const types = new Set([...Object.keys(structure), ...current.map((c) => c.labels[LABEL.type] ?? '')]);
    types.delete(RUN_TYPE);
    const plan = planFormation(current, version, structure, types, leaving, MAX_STARTS_PER_PASS);
    const stop = stillStarting.length > 0 ? plan.stop : [...older, ...plan.stop];
    if (Object.keys(plan.start).length === 0 && stop.length === 0) return;
    await executeRollout(deps, { context, start: plan.start, stop });
  });
}

export function startReconciler(deps: ControllerDeps, options: ReconcilerOptions): Reconciler {
  let stopped = false;
  let pass: Promise<void> | null = null;
  const soon = new Map<string, ReturnType<typeof setTimeout>>();
  const exits = new Map<string, number[]>();
  const reactAfterMs = options.reactAfterMs ?? 1000;
  /**
   * A crash-looping app would otherwise be replaced as fast as it crashes: each exit of the last window doubles the
   * wait, up to the interval of the periodic pass (Kubernetes' CrashLoopBackOff, in short).
   */
  const delayAfterExit = (appId: string): number => {
    const now = Date.now();
    const recent = (exits.get(appId) ?? []).filter((at) => now - at < CRASH_WINDOW_MS);
    recent.push(now);
    exits.set(appId, recent);
    return Math.min(reactAfterMs * 2 ** Math.min(recent.length - 1, 10), Math.max(options.intervalMs, reactAfterMs));
  };
  const report = (appId: string, error: unknown) => options.onError?.(appId, error);

  const livenessFailures = new Map<string, number>();
  /**
   * An app that could not be converged waits twice as long after each failure (up to MAX_RETRY_DELAY_MS), so a
   * broken release does not hold its app's lock, and the engine, on every pass.
   */
  const retries = new Map<string, { failures: number; notBefore: number }>();
  const reconcileOne = async (app: Pick<FormationApp, 'uuid' | 'id'>, reconcileOptions: ReconcileOptions = {}) => {
    const retry = retries.get(app.id);
    if (retry && Date.now() < retry.notBefore) return;
    try {
      await reconcileApp(deps, app.uuid, reconcileOptions);
      retries.delete(app.id);
    } catch (error) {
      const failures = (retry?.failures ?? 0) + 1;
      retries.set(app.id, { failures, notBefore: Date.now() + Math.min(options.intervalMs * (2 ** (failures - 1) - 1), MAX_RETRY_DELAY_MS) });
      report(app.id, error);
    }
  };

  /**
   * @param periodic a timer's pass: it leaves apps still busy from an earlier pass alone and does not wait for the apps
   *   it starts, so one slow app never holds back the next pass of the others
   */
  const runPass = async (periodic: boolean) => {
    let apps: FormationApp[];
    let listing: PlatformListing;
    try {
      apps = await appsWithBuilds(deps.db);
      if (apps.length === 0) return;
      // One engine listing for the whole pass, however many apps: the engine's failure is no app's.
      listing = await listPlatform(deps);
    } catch (error) {
      report(WHOLE_PASS, error);
      return;
    }
    const work = apps.map((app) => {
      const running = inFlight.get(app.id);
      // A pass asked for waits for an app still busy, then converges it again: its caller expects everything
      // converged once it resolves.
      if (running) return periodic ? undefined : running.then(() => track(app, listing));
      return track(app, listing);
    });
    if (!periodic) await Promise.all(work);
  };

  /** Converges the app in one of PARALLEL_APPS slots, remembering it as in flight until it is done. */
  const inFlight = new Map<string, Promise<void>>();
  let slotsFree = PARALLEL_APPS;
  const waitingForSlot: Array<() => void> = [];
  const track = (app: FormationApp, listing: PlatformListing): Promise<void> => {
    const work = (async () => {
      if (slotsFree === 0) await new Promise<void>((resolve) => waitingForSlot.push(resolve));
      else slotsFree--;
      try {
        if (!stopped) await reconcileOne(app, { livenessFailures, listing });
      } finally {
        const next = waitingForSlot.shift();
        if (next) next();
        else slotsFree++;
      }
    })();
    const entry = work.finally(() => {
      if (inFlight.get(app.id) === entry) inFlight.delete(app.id);
    });
    inFlight.set(app.id, entry);
    return entry;
  };

  const reconcileNow = (): Promise<void> => {
    // Passes asked for never overlap: a caller during a pass waits for it and then runs its own.
    const next = (pass ?? Promise.resolve()).then(() => runPass(false));
    pass = next;
    return next.finally(() => {
      if (pass === next) pass = null;
    });
  };
  // A timer's pass may run beside one asked for: apps in flight are skipped, and each app's lock orders the rest.
  let timerPass: Promise<void> | null = null;
  const periodicPass = () => {
    if (timerPass) return;
    timerPass = runPass(true).finally(() => {
      timerPass = null;
    });
  };

  const unwatch = deps.scheduler.watch({ [LABEL.platform]: deps.settings.platformName }, (event) => {
    if (stopped || event.labels[LABEL.type] === RUN_TYPE) return;
    if (event.state !== 'crashed' && event.state !== 'down') return;
    // Exits the platform caused (a replaced container, a rollout's failed new one) are handled where they happen.
    const state = formationState(deps);
    if (state.stoppedByUs.has(event.name) || state.notReady.has(event.name)) return;
    const appId = event.labels[LABEL.app];
    if (!appId) return;
    // An exited container leaves the upstreams; the router must hear of it before the replacement is up.
    deps.routing.changed();
    const delay = delayAfterExit(appId);
    if (soon.has(appId)) return;
    soon.set(
      appId,
      setTimeout(() => {
        soon.delete(appId);
        void (async () => {
          const app = await findAppById(deps.db, appId);
          if (app && !stopped) await reconcileOne(app);
        })().catch((error: unknown) => report(appId, error));
      }, delay),
    );
  });

  const timer = setInterval(periodicPass, options.intervalMs);
  timer.unref?.();
  void reconcileNow();

  return {
    reconcileNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unwatch();
      for (const handle of soon.values()) clearTimeout(handle);
      soon.clear();
      await pass?.catch(() => undefined);
      await timerPass?.catch(() => undefined);
      await Promise.all(inFlight.values());
    },
  };
}
