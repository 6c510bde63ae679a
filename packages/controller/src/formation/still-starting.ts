/**
 * New containers of a deploy that were still running but had not passed their readiness check when the deploy
 * timeout ended. As with a Kubernetes rollout, the deploy has answered success and its release is current, yet the
 * previous containers keep serving: the new ones show as `starting`, keep being probed, and each takes traffic as soon
 * as it passes. Once all have passed, the previous containers are stopped. One that exits instead is left to the
 * reconciler, which replaces it as it does any crashed container; the previous containers go once that one is ready.
 * @module
 */
import { NotReadyError } from '@deis/scheduler/scheduler';
import type { Container, ReadinessCheck } from '@deis/scheduler/scheduler';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { appContainers } from './app-containers.ts';
import { isRoutableType, LABEL, readinessCheck } from './container-spec.ts';
import type { ReleaseContext } from './container-spec.ts';
import { latestGoodRelease } from './formation-store.ts';
import { formationState, withAppLock } from './formation-state.ts';
import { rolloutTimings, stopContainers, switchRouter } from './rollout.ts';
import { markDraining, markReady } from './rollout-marks.ts';

/** How long one round of probing a waiting container lasts before the next begins. */
const PROBE_ROUND_MS = 2_000;
/** The least time between the starts of two rounds, for a check that fails at once (a refused connection). */
const PROBE_INTERVAL_MS = 1_000;

interface Watch {
  appId: string;
  appUuid: string;
  version: number;
  /** Containers not yet ready. */
  waiting: Set<string>;
  /** Set when a waiting container exited or vanished: the previous containers are then not this watch's to stop. */
  lost: boolean;
  abort: AbortController;
  done: Promise<void>;
}

const watches = new WeakMap<object, Set<Watch>>();

function watchesOf(deps: Pick<ControllerDeps, 'scheduler'>): Set<Watch> {
  let set = watches.get(deps.scheduler);
  if (!set) watches.set(deps.scheduler, (set = new Set()));
  return set;
}

/** Whether the container belongs to a deploy that answered before it was ready, and is still being probed. */
export function isStillStarting(deps: Pick<ControllerDeps, 'scheduler'>, name: string): boolean {
  for (const watch of watchesOf(deps)) if (watch.waiting.has(name)) return true;
  return false;
}

/** What the deploy's caller and the app's log say while some of a release's new containers are not ready. */
export function notReadyNotice(version: number, waiting: string[], timeoutMs: number): string {
  return (
    `v${version} is released, but its new containers are not ready yet (${waiting.join(', ')} did not pass the readiness check within ` +
    `${Math.round(timeoutMs / 1000)} s); the previous containers keep serving, and each new one takes over once it passes`
  );
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

async function isCurrent(deps: ControllerDeps, watch: Watch): Promise<boolean> {
  return (await latestGoodRelease(deps.db, watch.appUuid))?.version === watch.version;
}

/** Probes until the container passes (true) or exits, vanishes or the watch ends (false). */
async function probeUntilReady(deps: ControllerDeps, watch: Watch, name: string, check: ReadinessCheck): Promise<boolean> {
  const { signal } = watch.abort;
  while (!signal.aborted) {
    const began = Date.now();
    try {
      await deps.scheduler.waitReady(name, check, PROBE_ROUND_MS);
      return !signal.aborted;
    } catch (error) {
      if (error instanceof NotReadyError && !error.timedOut) return false;
      // Not ready yet, or the engine did not answer this time: both may change.
    }
    await pause(PROBE_INTERVAL_MS - (Date.now() - began), signal);
  }
  return false;
}

/** Every new container has passed: the previous releases' containers leave the router, then stop. */
async function retirePrevious(deps: ControllerDeps, watch: Watch, context: ReleaseContext): Promise<boolean> {
  return withAppLock(deps, watch.appId, async (lock) => {
    if (watch.abort.signal.aborted || !(await isCurrent(deps, watch))) return false;
    const previous = (await appContainers(deps, watch.appId)).filter((c) => c.labels[LABEL.release] !== `v${watch.version}`);
    await markDraining(deps, previous.map((c) => c.name));
    if (previous.some((c) => isRoutableType(c.labels[LABEL.type] ?? '') && c.state === 'up')) await switchRouter(deps);
    const stopping = stopContainers(deps, previous.map((c) => c.name), rolloutTimings(deps, context).graceSeconds).catch(() => undefined);
    lock.holdUntil(stopping);
    return true;
  });
}

async function follow(deps: ControllerDeps, watch: Watch, context: ReleaseContext, waiting: Container[]): Promise<void> {
  const { draining } = formationState(deps);
  await Promise.all(
    waiting.map(async (container) => {
      const check = readinessCheck(context, container.labels[LABEL.type] ?? '');
      const ready = check === null || (await probeUntilReady(deps, watch, container.name, check));
      // A container of a release no longer current never serves; the newer release's rollout stops it.
      if (ready && !draining.has(container.name) && (await isCurrent(deps, watch))) {
        await markReady(deps, [container.name]);
        deps.routing.changed();
      } else {
        watch.lost = true;
        // An exited container serves nothing anyway; leaving it out of notReady lets the reconciler replace it.
        // A watch ended by the controller closing leaves its marks: another controller takes the watch over.
        if (!ready && !watch.abort.signal.aborted) await markReady(deps, [container.name]);
      }
      watch.waiting.delete(container.name);
    }),
  );
  if (watch.lost || watch.abort.signal.aborted) return;
  if (await retirePrevious(deps, watch, context)) {
    await recordEvent(deps.db, watch.appUuid, `v${watch.version}: the new containers are ready and serve the app; the previous ones are stopped`);
  }
}

/**
 * Keeps probing `waiting` (new containers of the release in `context`, kept out of traffic) in the background, as
 * the module says. The deploy that started them has answered; this holds no lock while it waits.
 */
export function watchStillStarting(deps: ControllerDeps, context: ReleaseContext, waiting: Container[]): void {
  const set = watchesOf(deps);
  const watch: Watch = {
    appId: context.appId,
    appUuid: context.appUuid,
    version: context.version,
    waiting: new Set(waiting.map((c) => c.name)),
    lost: false,
    abort: new AbortController(),
    done: Promise.resolve(),
  };
  set.add(watch);
  watch.done = follow(deps, watch, context, waiting)
    .catch(() => undefined)
    .finally(() => set.delete(watch));
}

/** Ends every watch (the controller is closing) and waits until none touches the engine or the store. */
export async function stopWatchingStillStarting(deps: Pick<ControllerDeps, 'scheduler'>): Promise<void> {
  const set = watchesOf(deps);
  for (const watch of set) watch.abort.abort();
  await Promise.all([...set].map((watch) => watch.done));
}
