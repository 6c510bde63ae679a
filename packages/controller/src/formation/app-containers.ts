/**
 * The apps' containers on the scheduler: one app's, or every app's from one listing.
 * @module
 */
import type { Container } from '@deis/scheduler/scheduler';
import type { ControllerDeps } from '../deps.ts';
import { LABEL, RUN_TYPE } from './container-spec.ts';

/** Every container of the app except one-off runs. */
export async function appContainers(deps: ControllerDeps, appId: string): Promise<Container[]> {
  const containers = await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName, [LABEL.app]: appId });
  return containers.filter((c) => c.labels[LABEL.type] !== RUN_TYPE);
}

/** `appContainers` of every app that has any, from one listing of the platform's containers. */
export async function containersByApp(deps: ControllerDeps): Promise<Map<string, Container[]>> {
  const byApp = new Map<string, Container[]>();
  for (const container of await deps.scheduler.list({ [LABEL.platform]: deps.settings.platformName })) {
    const app = container.labels[LABEL.app];
    if (app === undefined || container.labels[LABEL.type] === RUN_TYPE) continue;
    const containers = byApp.get(app);
    if (containers) containers.push(container);
    else byApp.set(app, [container]);
  }
  return byApp;
}
