/**
 * Which containers of an app may receive traffic now.
 * @module
 */
import type { Container } from '@deis/scheduler/scheduler';
import type { RouteUpstream } from '@deis/sdk/types';
import type { AppRow } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { containersByApp } from './app-containers.ts';
import { isRoutableType, LABEL } from './container-spec.ts';
import { healthState } from './container-health.ts';
import { allRolloutMarks } from './rollout-marks.ts';
import type { RolloutMarks } from './rollout-marks.ts';

/** The containers among `containers` that may take requests, as upstreams in a stable order. */
function serving(deps: ControllerDeps, marks: RolloutMarks, containers: Container[]): RouteUpstream[] {
  const { notReady, draining } = marks;
  const { unready } = healthState(deps);
  const unreadyElsewhere = marks.unready;
  return containers
    .filter((c) => isRoutableType(c.labels[LABEL.type] ?? '') && c.state === 'up' && c.address !== null)
    .filter((c) => !notReady.has(c.name) && !draining.has(c.name) && !unready.has(c.name) && !unreadyElsewhere.has(c.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => ({ host: c.address!.host, port: c.address!.port }));
}

/**
 * The ready `web`/`cmd` containers of the release that serves the app; empty when none (the router answers 503).
 * A rollout's new containers join only once ready and its old ones leave before they are stopped, so during a deploy
 * this is the old set until the switch and the new set after it.
 */
export async function appUpstreams(deps: ControllerDeps, app: Pick<AppRow, 'id'>): Promise<RouteUpstream[]> {
  const marks = await allRolloutMarks(deps);
  return serving(deps, marks, await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName, [LABEL.app]: app.id }));
}

/** `appUpstreams` of every app at once, from one listing of the platform's containers (the routing table's need). */
export async function upstreamsByApp(deps: ControllerDeps): Promise<Map<string, RouteUpstream[]>> {
  // Marks first: a container whose mark is lifted after this read is listed as it was, which is still safe.
  const marks = await allRolloutMarks(deps);
  return new Map([...(await containersByApp(deps))].map(([app, containers]) => [app, serving(deps, marks, containers)]));
}
