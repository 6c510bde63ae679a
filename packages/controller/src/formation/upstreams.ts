/**
 * Which containers of an app may receive traffic now.
 * @module
 */
import type { RouteUpstream } from '@deis/sdk/types';
import type { AppRow } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';

/** The ready `web`/`cmd` containers of the release that serves the app; empty when none (the router answers 503). */
export async function appUpstreams(_deps: ControllerDeps, _app: AppRow): Promise<RouteUpstream[]> {
  return [];
}
