/**
 * Containers as the wire contract shows them (pods): listing and restarting.
 * @module
 */
import type { Pod, PodState } from '@deis/sdk/types';
import type { Container } from '@deis/scheduler/scheduler';
import { wireTime } from '../clock.ts';
import type { ControllerDeps } from '../deps.ts';
import { LABEL } from './container-spec.ts';
import { appContainers } from './app-containers.ts';
import { rolloutError } from './rollout-errors.ts';
import { restartCount } from './crash-restarts.ts';
import { formationState, withAppLock } from './formation-state.ts';
import { allRolloutMarks } from './rollout-marks.ts';
import { currentReleaseContext } from './release-context.ts';
import { executeRollout } from './rollout.ts';

export interface PodFilter {
  type?: string;
  /** A full pod name, or the short `type-digits-xxxxx` form the CLI may send. */
  name?: string;
}

/**
 * @param notReady a new container a rollout still waits on shows as `starting`, as a pod failing readiness does
 * @param restarts given: the pod carries its restart count (crash-restarts.ts)
 */
export function toWirePod(container: Container, notReady: ReadonlySet<string> = new Set(), restarts?: number): Pod {
  return {
    name: container.name,
    state: (container.state === 'up' && notReady.has(container.name) ? 'starting' : container.state) as PodState,
    type: container.labels[LABEL.type] ?? '',
    release: container.labels[LABEL.release] ?? '',
    started: wireTime((container.startedAt ?? new Date()).toISOString()),
    ...(restarts !== undefined ? { restarts } : {}),
  };
}

/** Deis expands `cmd-1269180282-1nyfz` (two dashes) to `{app}-cmd-1269180282-1nyfz`. */
export function fullPodName(appId: string, name: string): string {
  return name.split('-').length === 3 ? `${appId}-${name}` : name;
}

function matching(appId: string, containers: Container[], filter: PodFilter): Container[] {
  const name = filter.name === undefined ? undefined : fullPodName(appId, filter.name);
  return containers.filter((c) => (filter.type === undefined || c.labels[LABEL.type] === filter.type) && (name === undefined || c.name === name));
}

/** Newest start first. */
function byStartDescending(a: Container, b: Container): number {
  return (b.startedAt?.getTime() ?? Infinity) - (a.startedAt?.getTime() ?? Infinity);
}

/**
 * The app's pods, newest first, one-off runs and containers on their way out left out. Unlike the contract's Deis,
 * an exited container waiting for its restart in place is listed, `crashed` (or `down`) with its restart count, as
 * Heroku's `ps` shows a crashed dyno: the issue that asked for restarts wants users to see them.
 */
export async function listPods(deps: ControllerDeps, appId: string, filter: PodFilter = {}): Promise<Pod[]> {
  let containers: Container[];
  try {
    containers = await appContainers(deps, appId);
  } catch (error) {
    throw rolloutError(error, 'could not list the containers: ');
  }
  const { draining, notReady } = await allRolloutMarks(deps);
  return matching(appId, containers, filter)
    .filter((c) => !draining.has(c.name))
    .sort(byStartDescending)
    .map((c) => toWirePod(c, notReady, restartCount(deps, c.name)));
}

/**
 * Replaces the matching containers by new ones of the current release: the new ones start and become ready before
 * the old ones are stopped. Returns the new pods; none when nothing matched.
 */
export async function restartPods(deps: ControllerDeps, app: { uuid: string; id: string }, filter: PodFilter): Promise<Pod[]> {
  return withAppLock(deps, app.id, async () => {
    try {
      const { draining } = formationState(deps);
      const targets = matching(app.id, await appContainers(deps, app.id), filter).filter((c) => !draining.has(c.name));
      if (targets.length === 0) return [];
      const context = await currentReleaseContext(deps, app, 'No build associated with this release');
      const start: Record<string, number> = {};
      for (const container of targets) {
        const type = container.labels[LABEL.type] ?? '';
        start[type] = (start[type] ?? 0) + 1;
      }
      const started = await executeRollout(deps, { context, start, stop: targets });
      return started.sort(byStartDescending).map((c) => toWirePod(c));
    } catch (error) {
      throw rolloutError(error, 'restart failed: ');
    }
  });
}
