/**
 * Decides which containers to start and which to stop so that a release runs as many containers per type as a
 * structure says. Pure; scaling and the reconciler both plan with it.
 * @module
 */
import type { Container } from '@deis/scheduler/scheduler';
import { LABEL } from './container-spec.ts';

export interface FormationPlan {
  start: Record<string, number>;
  stop: Container[];
}

function isHealthy(container: Container): boolean {
  return container.state === 'up' || container.state === 'starting';
}

/** Newest first, so that scaling down keeps the containers that have served longest. */
function byStartDescending(a: Container, b: Container): number {
  return (b.startedAt?.getTime() ?? Infinity) - (a.startedAt?.getTime() ?? Infinity);
}

/**
 * @param containers the app's containers of the release `version` (others are the caller's business)
 * @param types the process types to plan for; a type absent from `structure` wants 0
 * @param leaving containers already on their way out: they count as gone and are stopped again
 * @param maxStarts at most this many new containers in all
 */
export function planFormation(
  containers: Container[],
  version: string,
  structure: Record<string, number>,
  types: Iterable<string>,
  leaving: ReadonlySet<string>,
  maxStarts = Infinity,
): FormationPlan {
  const plan: FormationPlan = { start: {}, stop: [] };
  let budget = maxStarts;
  for (const type of types) {
    const want = structure[type] ?? 0;
    const ofType = containers.filter((c) => c.labels[LABEL.type] === type && c.labels[LABEL.release] === version);
    const healthy = ofType.filter((c) => isHealthy(c) && !leaving.has(c.name)).sort(byStartDescending);
    plan.stop.push(...ofType.filter((c) => !isHealthy(c) || leaving.has(c.name)));
    if (healthy.length > want) plan.stop.push(...healthy.slice(0, healthy.length - want));
    const missing = Math.min(Math.max(0, want - healthy.length), budget);
    if (missing > 0) plan.start[type] = missing;
    budget -= missing;
  }
  return plan;
}
