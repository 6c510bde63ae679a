/**
 * `/v2/apps/{app}/config/`: read the config of the serving release; change it, which makes a new release and deploys
 * it once the app has a build.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf, jsonField } from '../http/body.ts';
import { sendDeployNotice } from '../http/deploy-notice.ts';
import { createRelease } from '../releases/release-store.ts';
import { nodeLabelSets } from '../nodes/node-labels.ts';
import { mergeConfig, parseConfigChange } from './config-data.ts';
import { checkConfigSize } from './config-size.ts';
import { currentConfig } from './current-config.ts';
import { toWireConfig } from './config-store.ts';

type AppParams = { Params: { id: string } };

const FIELDS = ['values', 'memory', 'cpu', 'tags', 'registry', 'healthcheck'] as const;

export async function configRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<AppParams>('/v2/apps/:id/config/', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.id);
    const { config } = await currentConfig(db, row.uuid);
    return toWireConfig(config, config.owner_username, row.id);
  });

  app.post<AppParams>('/v2/apps/:id/config/', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.id);
    const body = bodyOf(request.body);
    const change = parseConfigChange(Object.fromEntries(FIELDS.map((field) => [field, jsonField(body, field)])));
    // Asked only when tags change, so that an engine that does not answer never blocks other config changes.
    const nodeLabels = change.tags !== undefined ? await nodeLabelSets(deps.scheduler) : [];
    const created = await createRelease(deps, {
      app: row,
      user,
      config: {
        derive: (current) => {
          const merged = mergeConfig(current, change, nodeLabels);
          checkConfigSize(merged, change, deps.settings.limits);
          return merged;
        },
      },
      failureSummary: `${user.username} deployed a config that failed`,
    });
    if (!created.config) throw new Error('a config change stored no config');
    sendDeployNotice(reply, created.notReadyNotice);
    return reply.code(201).send(toWireConfig(created.config, user.username, row.id));
  });
}
