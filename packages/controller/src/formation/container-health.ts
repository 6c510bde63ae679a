/**
 * The health of running containers for their whole life, after the rollout that started them has let go:
 * - liveness: a container failing its liveness probe `failureThreshold` times in a row leaves the router at once, and
 *   is then replaced (a new container starts, becomes ready, takes its place; the old one is stopped), with an event
 *   line in the app's log;
 * - readiness: a container failing its readiness probe `failureThreshold` times in a row leaves the router until it
 *   passes `successThreshold` times in a row again;
 * - a container the reconciler restarted in place after a crash (crash-restarts.ts) stays out of the router until it
 *   passes its readiness check (the configured probe, else the TCP connect a deploy uses).
 * One timer drives every check of every container and each check is one scheduler call (a connect, a GET, or an exec
 * through the engine's API), with a bound on those in flight: hundreds of probed containers cost the host little
 * (bench/operations.ts). New containers a rollout still waits on are the rollout's to probe, and are skipped here.
 * @module
 */
import type { Container, ReadinessCheck } from '@deis/scheduler/scheduler';
import { findAppById } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { appContainers } from './app-containers.ts';
import { configuredReadiness, isRoutableType, LABEL, livenessCheck, readinessCheck, RUN_TYPE } from './container-spec.ts';
import type { PeriodicCheck, ReleaseContext } from './container-spec.ts';
import { findReleaseByVersion, latestGoodRelease } from './formation-store.ts';
import { formationState, withAppLock } from './formation-state.ts';
import { loadReleaseContext } from './release-context.ts';
import { executeRollout, stopContainers } from './rollout.ts';
import { markDraining, shareUnready, storeUnready } from './rollout-marks.ts';

/** Checks in flight at once, whatever the number of containers: the rest wait for the next tick. */
export const MAX_PROBES_IN_FLIGHT = 64;
/** How a container restarted in place is checked until it is ready (it has no probe of its own). */
const RESTARTED_CHECK_PERIOD_MS = 1_000;

interface HealthState {
  /** Running containers kept out of the router until a readiness check passes again. */
  readonly unready: Set<string>;
}

const states = new WeakMap<object, HealthState>();

export function healthState(deps: Pick<ControllerDeps, 'scheduler'>): HealthState {
  let state = states.get(deps.scheduler);
  if (!state) states.set(deps.scheduler, (state = { unready: new Set() }));
  return state;
}

/**
 * Keeps a running container out of the router until the health monitor sees it pass its readiness check; on a
 * shared store, out of every controller's routers (rollout-marks.ts).
 */
export async function holdUntilReady(deps: Pick<ControllerDeps, 'scheduler' | 'db' | 'dialect'>, name: string): Promise<void> {
  healthState(deps).unready.add(name);
  await shareUnready(deps, [name], false);
}

/** One running container the monitor checks. */
interface Watched {
  name: string;
  appId: string;
  type: string;
  release: string;
  /** The run it belongs to: a restart in place is a new run, with its counts and initial delay anew. */
  startedAt: number;
  host: string | undefined;
  liveness: PeriodicCheck | null;
  /** The configured readiness probe, checked all along. */
  readiness: PeriodicCheck | null;
  /** What a container restarted in place must pass before it serves, when it has no readiness probe of its own. */
  restartedReadiness: PeriodicCheck | null;
  livenessFailures: number;
  livenessDue: number;
  readinessFailures: number;
  readinessSuccesses: number;
  readinessDue: number;
  busy: boolean;
}

export interface HealthMonitorOptions {
  /** How often due checks are looked for; default 100 ms. */
  tickMs?: number;
  /** How often the running containers are listed again besides the engine's events; default 10 s. */
  syncMs?: number;
  /** Told about a replacement or a listing that failed. */
  onError?: (appId: string, error: unknown) => void;
}

export interface HealthMonitor {
  /** Lists the running containers now and checks what is due (tests). */
  syncNow(): Promise<void>;
  /** Resolves once every check and replacement begun so far has ended (tests). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** The deploy's readiness check, as one that lets a container restarted in place back in once it passes. */
function restartedCheck(check: ReadinessCheck): PeriodicCheck {
  return { check, periodMs: RESTARTED_CHECK_PERIOD_MS, timeoutMs: RESTARTED_CHECK_PERIOD_MS, initialDelayMs: 0, successThreshold: 1, failureThreshold: Infinity };
}

/**
 * Replaces a container whose liveness probe failed: out of the router first, then a new one of the same type and
 * release (a rollout: it starts, must be ready, the router switches, the old one gets its grace period). A container
 * of an older release is only stopped; the reconciler starts what the structure wants.
 */
export async function replaceUnhealthy(deps: ControllerDeps, appId: string, name: string, startedAt: number, why: string, failures: number): Promise<void> {
  const app = await findAppById(deps.db, appId);
  if (!app) return;
  await withAppLock(deps, app.id, async (lock) => {
    const container = (await appContainers(deps, app.id)).find((c) => c.name === name);
    // Exited meanwhile (the crash restarts take it), or already replaced or restarted: not this probe's business.
    if (!container || container.state !== 'up' || (container.startedAt?.getTime() ?? 0) !== startedAt) return;
    const { draining } = formationState(deps);
    if (draining.has(name)) return;
    await markDraining(deps, [name]);
    // The router lets go now, while the replacement starts.
    deps.routing.changed();
    const type = container.labels[LABEL.type] ?? '';
    await recordEvent(deps.db, app.uuid, `${name} failed its liveness probe ${failures} times in a row (${why}); it gets no more traffic and is replaced`);
    const release = await latestGoodRelease(deps.db, app.uuid);
    const context = release && `v${release.version}` === container.labels[LABEL.release] ? await loadReleaseContext(deps, app, release) : null;
    if (!context) {
      lock.holdUntil(stopContainers(deps, [name], deps.settings.gracePeriodSeconds).catch(() => undefined));
      return;
    }
    // Should the new one fail, the old one stays out of traffic; the reconciler's next pass replaces it.
    await executeRollout(deps, { context, start: { [type]: 1 }, stop: [container] }, { onStopping: (stopping) => lock.holdUntil(stopping) });
  });
}

/**
 * One period after the check that was due, so the timer's tick does not stretch every period; a check that fell
 * behind (a busy host) is not made up for with a burst.
 */
function nextDue(due: number, periodMs: number): number {
  const now = Date.now();
  const next = due + periodMs;
  return next > now ? next : now + periodMs;
}

/** Starts the one loop that checks every running container's health, as the module says. */
export function startHealthMonitor(deps: ControllerDeps, options: HealthMonitorOptions = {}): HealthMonitor {
  const tickMs = options.tickMs ?? 100;
  const syncMs = options.syncMs ?? 10_000;
  const report = (appId: string, error: unknown) => options.onError?.(appId, error);
  const watched = new Map<string, Watched>();
  /** Release contexts by `app/version`: a release never changes, so each is loaded once while it runs. */
  const contexts = new Map<string, Promise<ReleaseContext | null>>();
  const work = new Set<Promise<void>>();
  let inFlight = 0;
  let stopped = false;

  const track = (promise: Promise<void>) => {
    work.add(promise);
    void promise.finally(() => work.delete(promise));
  };

  const contextOf = (appId: string, release: string): Promise<ReleaseContext | null> => {
    const key = `${appId}/${release}`;
    let context = contexts.get(key);
    if (!context) {
      context = (async () => {
        const app = await findAppById(deps.db, appId);
        const found = app ? await findReleaseByVersion(deps.db, app.uuid, Number(release.replace(/^v/, ''))) : undefined;
        return app && found ? loadReleaseContext(deps, app, found) : null;
      })();
      // A failed load is tried again at the next listing.
      context.catch(() => contexts.delete(key));
      contexts.set(key, context);
    }
    return context;
  };

  const watch = async (container: Container): Promise<Watched | null> => {
    const type = container.labels[LABEL.type] ?? '';
    const appId = container.labels[LABEL.app] ?? '';
    const release = container.labels[LABEL.release] ?? '';
    const context = await contextOf(appId, release);
    if (!context) return null;
    const startedAt = container.startedAt?.getTime() ?? Date.now();
    const liveness = livenessCheck(context, type);
    const readiness = configuredReadiness(context, type);
    const fallback = isRoutableType(type) ? readinessCheck(context, type) : null;
    return {
      name: container.name,
      appId,
      type,
      release,
      startedAt,
      host: container.address?.host,
      liveness,
      readiness,
      restartedReadiness: readiness || !fallback ? null : restartedCheck(fallback),
      livenessFailures: 0,
      livenessDue: startedAt + (liveness?.initialDelayMs ?? 0),
      readinessFailures: 0,
      readinessSuccesses: 0,
      readinessDue: startedAt + (readiness?.initialDelayMs ?? 0),
      busy: false,
    };
  };

  let seeded = false;
  const sync = async () => {
    // A monitor beginning on a new leader holds what the previous leader's held, until each passes (ADR 0021).
    if (!seeded) {
      try {
        for (const name of await storeUnready(deps)) healthState(deps).unready.add(name);
        seeded = true;
      } catch (error) {
        report('*', error);
      }
    }
    let containers: Container[];
    try {
      containers = await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName });
    } catch (error) {
      report('*', error);
      return;
    }
    const running = containers.filter((c) => c.state === 'up' && (c.labels[LABEL.type] ?? RUN_TYPE) !== RUN_TYPE);
    const names = new Set(running.map((c) => c.name));
    for (const name of watched.keys()) if (!names.has(name)) watched.delete(name);
    const { unready } = healthState(deps);
    for (const name of unready) if (!names.has(name) && !containers.some((c) => c.name === name)) unready.delete(name);
    const releases = new Set(running.map((c) => `${c.labels[LABEL.app]}/${c.labels[LABEL.release]}`));
    for (const key of contexts.keys()) if (!releases.has(key)) contexts.delete(key);
    await Promise.all(
      running.map(async (container) => {
        const known = watched.get(container.name);
        if (known && known.startedAt === container.startedAt?.getTime()) {
          known.host = container.address?.host;
          return;
        }
        try {
          const entry = await watch(container);
          if (entry && !stopped) watched.set(container.name, entry);
          else watched.delete(container.name);
        } catch (error) {
          report(container.labels[LABEL.app] ?? '*', error);
        }
      }),
    );
  };

  const probe = async (entry: Watched, check: PeriodicCheck): Promise<string | null | undefined> => {
    try {
      return await deps.scheduler.probe(entry.name, check.check, { timeoutMs: check.timeoutMs, ...(entry.host ? { host: entry.host } : {}) });
    } catch {
      // The engine failing says nothing about the app: neither a pass nor a failure.
      return undefined;
    }
  };

  const checkLiveness = async (entry: Watched, liveness: PeriodicCheck) => {
    entry.livenessDue = nextDue(entry.livenessDue, liveness.periodMs);
    const why = await probe(entry, liveness);
    if (why === undefined || stopped || watched.get(entry.name) !== entry) return;
    if (why === null) {
      entry.livenessFailures = 0;
      return;
    }
    entry.livenessFailures += 1;
    if (entry.livenessFailures < liveness.failureThreshold) return;
    watched.delete(entry.name);
    await replaceUnhealthy(deps, entry.appId, entry.name, entry.startedAt, why, entry.livenessFailures).catch((error: unknown) => report(entry.appId, error));
  };

  const checkReadiness = async (entry: Watched, readiness: PeriodicCheck) => {
    entry.readinessDue = nextDue(entry.readinessDue, readiness.periodMs);
    const why = await probe(entry, readiness);
    if (why === undefined || stopped || watched.get(entry.name) !== entry) return;
    const { unready } = healthState(deps);
    if (why === null) {
      entry.readinessFailures = 0;
      entry.readinessSuccesses += 1;
      if (unready.has(entry.name) && entry.readinessSuccesses >= readiness.successThreshold) {
        unready.delete(entry.name);
        await shareUnready(deps, [entry.name], true).catch((error: unknown) => report(entry.appId, error));
        deps.routing.changed();
        if (entry.readiness) await eventFor(entry, `${entry.name} passes its readiness probe again; it gets traffic again`);
      }
      return;
    }
    entry.readinessSuccesses = 0;
    entry.readinessFailures += 1;
    if (!unready.has(entry.name) && entry.readinessFailures >= readiness.failureThreshold) {
      unready.add(entry.name);
      await shareUnready(deps, [entry.name], false).catch((error: unknown) => report(entry.appId, error));
      deps.routing.changed();
      await eventFor(entry, `${entry.name} failed its readiness probe ${entry.readinessFailures} times in a row (${why}); it gets no traffic until it passes again`);
    }
  };

  const eventFor = async (entry: Watched, message: string) => {
    try {
      const app = await findAppById(deps.db, entry.appId);
      if (app) await recordEvent(deps.db, app.uuid, message);
    } catch (error) {
      report(entry.appId, error);
    }
  };

  const tick = () => {
    if (stopped) return;
    const now = Date.now();
    const { notReady, draining } = formationState(deps);
    const { unready } = healthState(deps);
    for (const entry of watched.values()) {
      if (inFlight >= MAX_PROBES_IN_FLIGHT) break;
      if (entry.busy || notReady.has(entry.name) || draining.has(entry.name)) continue;
      const liveness = entry.liveness && now >= entry.livenessDue ? entry.liveness : null;
      const readinessNow = entry.readiness ?? (unready.has(entry.name) ? entry.restartedReadiness : null);
      const readiness = readinessNow && now >= entry.readinessDue ? readinessNow : null;
      if (!liveness && !readiness) continue;
      entry.busy = true;
      inFlight += 1;
      track(
        (async () => {
          try {
            if (readiness) await checkReadiness(entry, readiness);
            if (liveness && watched.get(entry.name) === entry) await checkLiveness(entry, liveness);
          } finally {
            entry.busy = false;
            inFlight -= 1;
          }
        })(),
      );
    }
  };

  let syncing: Promise<void> | null = null;
  let syncAgain = false;
  const syncSoon = (): Promise<void> => {
    if (syncing) {
      syncAgain = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        syncAgain = false;
        await sync();
      } while (syncAgain && !stopped);
    })().finally(() => {
      syncing = null;
    });
    track(syncing);
    return syncing;
  };

  let debounce: ReturnType<typeof setTimeout> | null = null;
  const unwatch = deps.scheduler.watch({ [LABEL.platform]: deps.settings.platformName }, (event) => {
    if (stopped || event.labels[LABEL.type] === RUN_TYPE) return;
    if (event.state !== 'down' && event.state !== 'crashed') {
      // Starts come in bursts (a deploy, a scale): one listing for the burst.
      if (!debounce) {
        debounce = setTimeout(() => {
          debounce = null;
          void syncSoon();
        }, 250);
      }
      return;
    }
    // An exited container is checked no more.
    watched.delete(event.name);
  });

  const ticker = setInterval(tick, tickMs);
  ticker.unref?.();
  const syncer = setInterval(() => void syncSoon(), syncMs);
  syncer.unref?.();
  void syncSoon();

  return {
    async syncNow() {
      await syncSoon();
      tick();
    },
    async settled() {
      while (work.size > 0) await Promise.all([...work]);
    },
    async stop() {
      stopped = true;
      clearInterval(ticker);
      clearInterval(syncer);
      if (debounce) clearTimeout(debounce);
      unwatch();
      await Promise.all([...work]).catch(() => undefined);
    },
  };
}
