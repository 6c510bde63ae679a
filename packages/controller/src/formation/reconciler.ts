/**
 * Converges the containers of every app to its desired state: the newest good release, as many containers per type
 * as the structure says. It restarts exited containers in place after their back-off (crash-restarts.ts), starts
 * missing ones, removes extra ones and those of older releases, so apps come back after a crash or a platform restart
 * with nobody acting, but leaves older containers serving while new ones a deploy left still starting are probed
 * (still-starting.ts) or restarted ones are not ready yet. It runs at start, periodically, and when a container's
 * restart falls due after it exited. A periodic pass lists the engine once for every app, however many there are.
 * It starts the health monitor (container-health.ts), which checks liveness and readiness all along.
 * @module
 */
import type { Container } from '@deis/scheduler/scheduler';
import { findAppById } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { appContainers, containersByApp } from './app-containers.ts';
import { healthState, holdUntilReady, startHealthMonitor } from './container-health.ts';
import type { HealthMonitorOptions } from './container-health.ts';
import { isRoutableType, LABEL, RUN_TYPE } from './container-spec.ts';
import { forgetGone, nextRestartDue, noteExit, noteRestarted, noteRunning, restartDue } from './crash-restarts.ts';
import { appsWithBuilds, findAppByUuid, latestGoodRelease, parseStructure } from './formation-store.ts';
import type { FormationApp } from './formation-store.ts';
import { formationState, isAppBusy, lockReleasedSince, lockMarks, withAppLock } from './formation-state.ts';
import type { LockMarks } from './formation-state.ts';
import { loadReleaseContext } from './release-context.ts';
import { planFormation } from './formation-plan.ts';
import { executeRollout } from './rollout.ts';
import { isStillStarting, watchStillStarting } from './still-starting.ts';
import { allRolloutMarks, pruneRolloutMarks } from './rollout-marks.ts';

/** New containers one app gets per pass, so a crash-looping app cannot flood the engine. */
const MAX_STARTS_PER_PASS = 10;
/** The longest an app that keeps failing to converge waits for its next try. */
const MAX_RETRY_DELAY_MS = 10 * 60 * 1000;
/**
 * Apps converged at once. An app's pass can wait on its containers' grace period or readiness timeout (bounded by the
 * limits, but minutes still); one at a time, one slow app would hold every other app's pass back.
 */
export const PARALLEL_APPS = 4;
/** How old a store mark of a container the engine does not list must be to go: a rollout marks before it starts. */
const STALE_MARK_MS = 10 * 60 * 1000;

export interface ReconcilerOptions {
  intervalMs: number;
  /**
   * How soon after a container first exits it is restarted in place; each further exit within the crash window
   * doubles the wait (crash-restarts.ts). Default 1 s.
   */
  reactAfterMs?: number;
  /** The longest wait before a crash-looping container is restarted; default crash-restarts.ts' MAX_RESTART_DELAY_MS. */
  maxRestartDelayMs?: number;
  /** The health monitor's options; false: none runs (tests of the reconciler alone). */
  health?: HealthMonitorOptions | false;
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
  /** How long after its first exit a container is restarted in place; default 1 s (see ReconcilerOptions). */
  firstRestartDelayMs?: number;
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
    // Marks in the store this controller did not make, seen holding the app's lock (ADR 0021): no rollout of the app
    // runs anywhere, so they are a dead controller's, or a still-starting watch's on another controller.
    const local = formationState(deps);
    const marks = await allRolloutMarks(deps);
    const foreignDraining = containers.filter((c) => marks.draining.has(c.name) && !local.draining.has(c.name));
    const foreignNotReady = current.filter((c) => c.state === 'up' && marks.notReady.has(c.name) && !local.notReady.has(c.name) && !foreignDraining.includes(c));
    // Those leaving go (nobody else stops them now); those not ready are probed here too, and serve once they pass.
    const leaving = new Set([...local.draining, ...foreignDraining.map((c) => c.name)]);
    if (foreignNotReady.length > 0) {
      for (const container of foreignNotReady) local.notReady.add(container.name);
      watchStillStarting(deps, context, foreignNotReady);
    }
    // New containers a deploy left still starting are being probed; until they pass, the older ones keep serving.
    const stillStarting = current.filter((c) => isStillStarting(deps, c.name));
    forgetGone(deps, app.id, new Set(containers.map((c) => c.name)));
    for (const container of current) if (container.state === 'up') noteRunning(deps, container.name, container.startedAt);
    // Exited containers wait for their restart in place and count as there meanwhile: nothing replaces them.
    const exited = new Set(current.filter((c) => (c.state === 'crashed' || c.state === 'down') && !leaving.has(c.name)).map((c) => c.name));
    const counted = current.map((c) => (exited.has(c.name) ? { ...c, state: 'starting' as const } : c));
    const structure = parseStructure(app);
    const types = new Set([...Object.keys(structure), ...current.map((c) => c.labels[LABEL.type] ?? '')]);
    types.delete(RUN_TYPE);
    const plan = planFormation(counted, version, structure, types, leaving, MAX_STARTS_PER_PASS);
    const stopping = new Set(plan.stop.map((c) => c.name));
    const firstDelay = options.firstRestartDelayMs ?? 1000;
    const restart = current.filter((c) => exited.has(c.name) && !stopping.has(c.name) && restartDue(deps, c.name, app.id, firstDelay));
    for (const container of restart) await restartInPlace(deps, app.uuid, container);
    const { unready } = healthState(deps);
    const holdOlder = stillStarting.length > 0 || exited.size > 0 || current.some((c) => unready.has(c.name));
    const stop = holdOlder ? plan.stop : [...older, ...plan.stop];
    for (const container of foreignDraining) if (!stop.includes(container)) stop.push(container);
    if (Object.keys(plan.start).length === 0 && stop.length === 0) return;
    await executeRollout(deps, { context, start: plan.start, stop });
  });
}

/**
 * Starts an exited container again in place. One that serves stays out of the router until the health monitor sees
 * it pass its readiness check: the engine runs it before the app in it listens.
 */
async function restartInPlace(deps: ControllerDeps, appUuid: string, container: Container): Promise<void> {
  const type = container.labels[LABEL.type] ?? '';
  if (isRoutableType(type)) await holdUntilReady(deps, container.name);
  await deps.scheduler.restart(container.name);
  const restarts = noteRestarted(deps, container.name, container.labels[LABEL.app] ?? '');
  const how = container.state === 'down' ? 'exited' : `crashed with exit code ${container.exitCode ?? 'unknown'}`;
  await recordEvent(deps.db, appUuid, `${container.name} ${how}; restarted in place (restart ${restarts})`);
}

export function startReconciler(deps: ControllerDeps, options: ReconcilerOptions): Reconciler {
  let stopped = false;
  let pass: Promise<void> | null = null;
  const soon = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const reactAfterMs = options.reactAfterMs ?? 1000;
  const report = (appId: string, error: unknown) => options.onError?.(appId, error);
  const health = options.health === false ? null : startHealthMonitor(deps, { ...options.health, ...(options.onError ? { onError: options.onError } : {}) });
  /**
   * An app that could not be converged waits twice as long after each failure (up to MAX_RETRY_DELAY_MS), so a
   * broken release does not hold its app's lock, and the engine, on every pass.
   */
  const retries = new Map<string, { failures: number; notBefore: number }>();
  const reconcileOne = async (app: Pick<FormationApp, 'uuid' | 'id'>, reconcileOptions: ReconcileOptions = {}) => {
    const retry = retries.get(app.id);
    if (retry && Date.now() < retry.notBefore) return;
    try {
      await reconcileApp(deps, app.uuid, { ...reconcileOptions, firstRestartDelayMs: reactAfterMs });
      retries.delete(app.id);
      // A container still waiting out its back-off is restarted when its wait ends, not at the next periodic pass.
      const due = nextRestartDue(deps, app.id);
      if (due !== null) reconcileSoon(app.id, due);
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
    // Marks a dead controller left on containers since removed (ADR 0021); nothing reads them but the table.
    const existing = new Set([...listing.byApp.values()].flatMap((containers) => containers.map((c) => c.name)));
    await pruneRolloutMarks(deps, existing, STALE_MARK_MS).catch((error: unknown) => report(WHOLE_PASS, error));
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
        if (!stopped) await reconcileOne(app, { listing });
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

  /** Converges the app after `delay`, or sooner if it was to be anyway. */
  function reconcileSoon(appId: string, delay: number): void {
    if (stopped) return;
    const at = Date.now() + delay;
    const pending = soon.get(appId);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      soon.delete(appId);
      void (async () => {
        const app = await findAppById(deps.db, appId);
        if (app && !stopped) await reconcileOne(app);
      })().catch((error: unknown) => report(appId, error));
    }, delay);
    soon.set(appId, { at, timer });
  }

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
    reconcileSoon(appId, noteExit(deps, event.name, appId, reactAfterMs, options.maxRestartDelayMs));
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
      for (const pending of soon.values()) clearTimeout(pending.timer);
      soon.clear();
      await health?.stop();
      await pass?.catch(() => undefined);
      await timerPass?.catch(() => undefined);
      await Promise.all(inFlight.values());
    },
  };
}
