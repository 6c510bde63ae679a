/**
 * `/v2/apps/{app}/whitelist/`: the addresses allowed to reach an app, as `{"addresses": [...]}`; adding takes the
 * union, removing needs every address to be there (contract §1.2). Both write a new settings version.
 * @module
 */
import { UnprocessableError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { saveSettings } from '../settings/save-settings.ts';
import { currentSettings, settingsValues } from '../settings/settings-store.ts';
import { addressList } from './address.ts';

type AppParams = { app: string };

/** Python's repr of a set of strings, as Deis's message shows it. */
function setRepr(items: string[]): string {
  return `{${items.map((item) => `'${item}'`).join(', ')}}`;
}

export async function whitelistRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<{ Params: AppParams }>('/v2/apps/:app/whitelist', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.app);
    return { addresses: settingsValues(await currentSettings(db, row)).whitelist };
  });

  app.post<{ Params: AppParams }>('/v2/apps/:app/whitelist', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.app);
    const addresses = addressList(bodyOf(request.body).addresses, 'addresses');
    const saved = await saveSettings(deps, row, user, ({ whitelist: current }) => ({ whitelist: [...current, ...addresses.filter((address) => !current.includes(address))] }));
    return reply.code(201).send({ addresses: settingsValues(saved).whitelist });
  });

  app.delete<{ Params: AppParams }>('/v2/apps/:app/whitelist', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.app);
    const addresses = addressList(bodyOf(request.body).addresses, 'addresses');
    await saveSettings(deps, row, user, ({ whitelist: current }) => {
      const missing = addresses.filter((address) => !current.includes(address));
      if (missing.length > 0) throw new UnprocessableError(`addresses ${setRepr(missing)} does not exist in whitelist`);
      return { whitelist: current.filter((address) => !addresses.includes(address)) };
    });
    return reply.code(204).send();
  });
}
