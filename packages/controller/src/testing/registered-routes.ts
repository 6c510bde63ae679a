/**
 * Every route the controller registers, as `METHOD path` (HEAD included: Fastify adds one per GET), read from the app
 * itself, so that tests that must cover every route (the authorization matrix, the hostile requests) cannot miss a
 * new one. Used only by `*.test.ts` files.
 * @module
 */
import type { RouteOptions } from 'fastify';
import { buildControllerApp } from '../app.ts';
import { startTestController } from './test-controller.ts';

export async function registeredRoutes(): Promise<string[]> {
  const lister = await startTestController();
  const routes = new Set<string>();
  const app = await buildControllerApp(lister.deps, {
    onRoute: (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.add(`${method} ${route.url}`);
    },
  });
  await app.ready();
  await app.close();
  await lister.close();
  return [...routes].sort();
}
