/**
 * The containers of one app on the scheduler.
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
