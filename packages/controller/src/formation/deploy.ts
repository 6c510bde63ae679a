/**
 * Release orchestration on the scheduler (ARCHITECTURE.md, "Deploying a release").
 * @module
 */
import type { ControllerDeps } from '../deps.ts';

export interface DeployRequest {
  appUuid: string;
  /** The release to roll out; already stored. */
  version: number;
  /** Who asked, for summaries and events. */
  username: string;
}

/**
 * Rolls out a stored release: new containers beside the old, readiness, router switch, old containers stopped.
 * On failure it marks the release failed, leaves the previous release serving, and throws a DeisError whose message
 * says why (with the app's last lines).
 */
export async function deployRelease(_deps: ControllerDeps, _request: DeployRequest): Promise<void> {
  throw new Error('deployRelease: not written yet');
}

/** Stops and removes every container of an app (on apps:destroy). */
export async function removeAppContainers(_deps: ControllerDeps, _appId: string): Promise<void> {
  throw new Error('removeAppContainers: not written yet');
}
