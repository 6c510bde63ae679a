/**
 * The controller's app factory: every route of the Deis v2 API on the given dependencies. Listening is `main.ts`'s job,
 * so tests build the app and call `inject()`.
 * @module
 */
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions, RouteOptions } from 'fastify';
import { API_VERSION, PLATFORM_VERSION } from '@deis/sdk/types';
import { appRoutes } from './apps/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { buildRoutes } from './builds/routes.ts';
import { certRoutes } from './certs/routes.ts';
import { configRoutes } from './config/routes.ts';
import type { ControllerDeps } from './deps.ts';
import { domainRoutes } from './domains/routes.ts';
import { drainRoutes } from './drains/routes.ts';
import { formationRoutes } from './formation/routes.ts';
import { stopWatchingStillStarting } from './formation/still-starting.ts';
import { healthRoutes } from './health/routes.ts';
import { buildHookRoutes } from './hooks/build-hooks.ts';
import { keyHookRoutes } from './hooks/key-hooks.ts';
import { installAuthentication } from './http/auth.ts';
import { BODY_LIMIT_BYTES, installBodyParsers } from './http/body.ts';
import { installErrorHandler } from './http/error-handler.ts';
import { installNullCharacterCheck } from './http/null-characters.ts';
import { keyRoutes } from './keys/routes.ts';
import { permRoutes } from './perms/routes.ts';
import { releaseRoutes } from './releases/routes.ts';
import { routingRoutes } from './routing/routes.ts';
import { settingsRoutes } from './settings/routes.ts';
import { tlsRoutes } from './tls/routes.ts';
import { userRoutes } from './users/routes.ts';
import { nodeRoutes } from './nodes/routes.ts';
import { installWebSockets } from './http/websocket-upgrade.ts';
import { runRoutes } from './formation/run-routes.ts';

export type ControllerApp = FastifyInstance;

/** Request logs name the route, never bodies or headers, so no password, token, key or config value reaches a log. */
const logSerializers = {
  req: (request: { method: string; url: string }) => ({ method: request.method, url: request.url.split('?')[0] }),
};

/**
 * @param options.onRoute sees every route as it is registered: the authorization matrix test reads the route table
 * from it, so that a new route cannot go untested.
 */
export async function buildControllerApp(
  deps: ControllerDeps,
  options: { logger?: FastifyServerOptions['logger']; onRoute?: (route: RouteOptions) => void } = {},
): Promise<ControllerApp> {
  const app = Fastify({
    logger: options.logger === undefined ? false : options.logger && { ...(typeof options.logger === 'object' ? options.logger : {}), serializers: logSerializers },
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    // Behind the router, the client's address and scheme come from X-Forwarded-*; the router is on loopback.
    trustProxy: '127.0.0.1',
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  app.addHook('onSend', async (_request, reply) => {
    reply.header('DEIS_API_VERSION', API_VERSION);
    reply.header('DEIS_PLATFORM_VERSION', PLATFORM_VERSION);
    reply.header('Access-Control-Expose-Headers', 'DEIS_API_VERSION, DEIS_PLATFORM_VERSION');
  });
  // Deploys that answered before their containers were ready leave probes running; they end with the app.
  app.addHook('onClose', async () => stopWatchingStillStarting(deps));
  installBodyParsers(app);
  installErrorHandler(app);
  installAuthentication(app, deps.db, deps.settings.builderKey);
  installNullCharacterCheck(app);
  await installWebSockets(app);

  // `GET /v2/` is the DRF router root: 401 without a token (the CLI's connection check depends on it), `{}` with one.
  app.get('/v2/', async () => ({}));

  for (const routes of [
    healthRoutes,
    authRoutes,
    userRoutes,
    keyRoutes,
    appRoutes,
    permRoutes,
    configRoutes,
    buildRoutes,
    releaseRoutes,
    formationRoutes,
    domainRoutes,
    certRoutes,
    tlsRoutes,
    settingsRoutes,
    keyHookRoutes,
    buildHookRoutes,
    routingRoutes,
    runRoutes,
    drainRoutes,
    nodeRoutes,
  ]) {
    await routes(app, deps);
  }
  return app;
}
