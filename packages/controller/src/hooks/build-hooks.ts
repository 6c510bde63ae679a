/**
 * The builder's hooks: `POST /v2/hooks/build/` turns a finished push into a build, a release and a deploy, and answers
 * `{"release": {"version": N}}`; the app, config and image hooks are registered here too.
 * @module
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { BuildHookResponse } from '@deis/sdk/types';
import { createBuild, parseNewBuild } from '../builds/create-build.ts';
import type { ControllerDeps } from '../deps.ts';
import { bodyOf, optionalString } from '../http/body.ts';
import { sendStreamed, wantsStream } from './build-hook-stream.ts';
import { sendDeployNotice } from '../http/deploy-notice.ts';
import { appHookRoutes } from './app-hook.ts';
import { configHookRoutes } from './config-hook.ts';
import { hookCaller } from './hook-caller.ts';
import { imageHookRoutes } from './image-hook.ts';

export async function buildHookRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.post('/v2/hooks/build/', { config: { auth: 'builder' } }, async (request, reply): Promise<BuildHookResponse | FastifyReply> => {
    const body = bodyOf(request.body);
    const { app: target, user } = await hookCaller(deps.db, body);
    const requestId = optionalString(body, 'request_id');
    const build = { ...parseNewBuild(body), ...(requestId ? { requestId } : {}) };
    if (wantsStream(request)) {
      return sendStreamed(request, reply, {
        run: async (output) => {
          const { release, notReadyNotice } = await createBuild(deps, target, user, build, output);
          return { status: 200, body: { release: { version: release.version } }, warning: notReadyNotice };
        },
      });
    }
    const { release, notReadyNotice } = await createBuild(deps, target, user, build);
    sendDeployNotice(reply, notReadyNotice);
    return { release: { version: release.version } };
  });
  await appHookRoutes(app, deps);
  await configHookRoutes(app, deps);
  await imageHookRoutes(app, deps);
}
