/**
 * The one way containers are replaced, used by deploys, scaling, restarts and the reconciler: new containers start
 * beside the old ones and must pass their readiness check; only then does the router switch to them, and only once
 * it has (or a bounded wait has passed) do the old ones get SIGTERM and a grace period. A new container that fails
 * takes every new container of the rollout with it, and the old ones keep serving. A deploy may instead let new
 * containers that are running but not yet ready outlast the timeout (see still-starting.ts).
 * @module
 */
import { NotReadyError } from '@deis/scheduler/scheduler';
import type { Container, ContainerSpec } from '@deis/scheduler/scheduler';
import type { ControllerDeps } from '../deps.ts';
import { containerSpec, isRoutableType, LABEL, readinessCheck } from './container-spec.ts';
import type { ReleaseContext } from './container-spec.ts';
import { noteStopping } from './formation-state.ts';
import { forgetMarks, markDraining, markNotReady, markReady, markSwitch } from './rollout-marks.ts';
import { newPodName, podTemplateHash } from './pod-names.ts';

/** How long a rollout waits for the router to apply the switch before it stops old containers anyway. */
const ROUTER_SWITCH_WAIT_MS = 15_000;
/**
 * Engine calls in flight at once per rollout. The engine does much of a container's start one at a time (its network
 * endpoint above all), so more than this gains little and makes each call slower; fewer leaves it idle between calls.
 */
export const PARALLEL_CALLS = 8;
/** Lines of a failed container's output shown to the user. */
const LAST_LINES = 20;

export interface RolloutPlan {
  context: ReleaseContext;
  /** How many new containers to start per process type. */
  start: Record<string, number>;
  /** Containers to stop once the new ones are ready. */
  stop: Container[];
}

export interface RolloutOptions {
  /**
   * Given: the old containers' stop (their grace period) goes on after the rollout resolves, and this receives the
   * promise of it; absent: the rollout resolves once they are gone.
   */
  onStopping?: (stopped: Promise<void>) => void;
  /**
   * Given: new containers still running but not ready when the timeout ends do not fail the rollout. It then resolves
   * with the old containers still serving, the new ones that passed serving beside them, and the rest kept out of
   * traffic and handed to this (a deploy that answers, as Kubernetes' does, and goes on probing them).
   */
  onStillStarting?: (waiting: Container[]) => void;
}

/** A new container did not become ready; the rollout has been undone. */
export class RolloutFailure extends Error {
  readonly type: string;
  readonly containerName: string;
  readonly lastLines: string[];

  constructor(type: string, containerName: string, reason: string, lastLines: string[]) {
    super(reason);
    this.name = 'RolloutFailure';
    this.type = type;
    this.containerName = containerName;
    this.lastLines = lastLines;
  }
}

/**
 * Seconds of grace and milliseconds of readiness wait: the settings, unless the app's config says otherwise (§1.4).
 * An app's own values are clamped to the limits (DEIS_LIMIT_APP_GRACE_PERIOD, DEIS_LIMIT_APP_DEPLOY_TIMEOUT): they hold
 * the app's lock, and a reconciler slot, for that long.
 */
export function rolloutTimings(deps: Pick<ControllerDeps, 'settings'>, context: Pick<ReleaseContext, 'config'>): { graceSeconds: number; timeoutMs: number } {
  const seconds = (key: string): number | undefined => {
    const value = Number(context.config.values[key]);
    return context.config.values[key] !== undefined && Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  const grace = seconds('KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS');
  const timeout = seconds('DEIS_DEPLOY_TIMEOUT');
  const { limits } = deps.settings;
  return {
    graceSeconds: grace === undefined ? deps.settings.gracePeriodSeconds : Math.min(grace, limits.appGracePeriodSeconds),
    timeoutMs: timeout !== undefined && timeout > 0 ? Math.min(timeout, limits.appDeployTimeoutSeconds) * 1000 : deps.settings.deployTimeoutMs,
  };
}

/**
 * Runs `work` on every item, PARALLEL_CALLS at a time, a new call starting as soon as one ends (batches would wait for
 * their slowest call); the results are in the items' order.
 */
async function settleEach<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await work(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_CALLS, items.length) }, worker));
  return results;
}

/** Stops containers, keeping any the engine failed to stop out of traffic so the reconciler can try again. */
export async function stopContainers(deps: ControllerDeps, names: string[], graceSeconds: number): Promise<void> {
  await markDraining(deps, names);
  noteStopping(deps, names);
  const results = await settleEach(names, (name) => deps.scheduler.stop(name, graceSeconds));
  await forgetMarks(deps, names.filter((_, i) => results[i]!.status === 'fulfilled'));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function lastLinesOf(deps: ControllerDeps, name: string): Promise<string[]> {
  try {
    return (await deps.scheduler.logs(name, LAST_LINES)).map((line) => line.text);
  } catch {
    return [];
  }
}

/** Switches the router to the current containers and waits, bounded, until it has applied the switch. */
export async function switchRouter(deps: ControllerDeps): Promise<void> {
  await deps.routing.switched(ROUTER_SWITCH_WAIT_MS);
}

/**
 * Carries out a plan. Resolves with the new containers; rejects with RolloutFailure (an app's container failed) or the
 * scheduler's own error (the engine failed), in both cases after removing the new containers.
 */
export async function executeRollout(deps: ControllerDeps, plan: RolloutPlan, options: RolloutOptions = {}): Promise<Container[]> {
  const { context } = plan;
  const { graceSeconds, timeoutMs } = rolloutTimings(deps, context);
  const specs: ContainerSpec[] = [];
  for (const [type, count] of Object.entries(plan.start)) {
    const hash = podTemplateHash(context.appUuid, context.version, type);
    for (let i = 0; i < count; i++) specs.push(containerSpec(deps.settings.platformName, context, type, newPodName(context.appId, type, hash)));
  }
  if (specs.length === 0 && plan.stop.length === 0) return [];
  // Marked before they start: a router polling any controller must never see one of them ready before it is.
  await markNotReady(deps, specs.map((s) => s.name));

  const started: Container[] = [];
  const undo = async () => {
    await stopContainers(deps, specs.map((s) => s.name), 0).catch(() => undefined);
    await forgetMarks(deps, specs.map((s) => s.name)).catch(() => undefined);
  };
  const waiting: Container[] = [];
  const checkReady = async (container: Container): Promise<void> => {
    const type = container.labels[LABEL.type] ?? '';
    if (container.state === 'crashed' || container.state === 'down') {
      throw new RolloutFailure(type, container.name, `container ${container.name} exited with code ${container.exitCode ?? 'unknown'}`, await lastLinesOf(deps, container.name));
    }
    const check = readinessCheck(context, type);
    if (!check) return;
    try {
      await deps.scheduler.waitReady(container.name, check, timeoutMs);
    } catch (error) {
      if (error instanceof NotReadyError && error.timedOut && options.onStillStarting) {
        waiting.push(container);
        return;
      }
      if (error instanceof NotReadyError) throw new RolloutFailure(type, container.name, error.message, error.lastLines);
      throw error;
    }
  };
  try {
    // Each container's check begins as soon as it runs, while later ones are still starting; the first failure
    // decides (the rest would be undone anyway), and no start begins after it.
    const failures: unknown[] = [];
    const checks: Promise<void>[] = [];
    const results = await settleEach(specs, async (spec) => {
      if (failures.length > 0) return undefined;
      let container: Container;
      try {
        container = await deps.scheduler.start(spec);
      } catch (error) {
        failures.push(error);
        return undefined;
      }
      const check = checkReady(container);
      check.catch((error: unknown) => failures.push(error));
      checks.push(check);
      return container;
    });
    for (const result of results) if (result.status === 'fulfilled' && result.value) started.push(result.value);
    // Only now, with every start settled, can the undo reach every container the rollout made.
    if (failures.length > 0) throw failures[0];
    await Promise.all(checks);
  } catch (error) {
    await undo();
    throw error;
  }

  const serves = (type: string | undefined) => isRoutableType(type ?? '');
  if (waiting.length > 0 && options.onStillStarting) {
    // No switch: the new containers that passed join the old ones, which stay; the rest stay out of traffic.
    const notYet = new Set(waiting.map((c) => c.name));
    const joining = specs.filter((s) => !notYet.has(s.name));
    await markReady(deps, joining.map((s) => s.name));
    if (joining.some((s) => serves(s.labels[LABEL.type]))) await switchRouter(deps);
    options.onStillStarting(waiting);
    return started;
  }

  // The switch: new containers in, old ones out, in one routing generation.
  await markSwitch(deps, specs.map((s) => s.name), plan.stop.map((c) => c.name));
  // The router must have moved on before serving containers stop, and should have before the caller hears that new
  // ones serve (`deis scale` then a request); exited containers are out of the upstreams already.
  const joining = specs.some((s) => serves(s.labels[LABEL.type]));
  const leaving = plan.stop.some((c) => serves(c.labels[LABEL.type]) && c.state === 'up');
  if (joining || leaving) await switchRouter(deps);
  else if (plan.stop.some((c) => serves(c.labels[LABEL.type]))) deps.routing.changed();
  const stopping = stopContainers(deps, plan.stop.map((c) => c.name), graceSeconds).catch(() => undefined);
  if (options.onStopping) options.onStopping(stopping);
  else await stopping;
  return started;
}
