/**
 * The on/off switches of an app: `maintenance:*`, `routing:*` (settings) and `tls:*` (https enforcement).
 * @module
 */
import type { Tls } from '@deis/sdk/types';
import { getSettings, postSettings } from '../app-settings.ts';
import { stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';

export const toggleCommands: CommandSpec[] = [
  {
    name: 'maintenance:info',
    summary: 'Prints the maintenance mode status of an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const session = await ctx.session();
      const app = await ctx.app(session, stringOption(values, 'app'));
      const settings = await getSettings(session, app);
      if (ctx.json) return void ctx.emit({ maintenance: settings.maintenance });
      ctx.say(`Maintenance mode is ${settings.maintenance ? 'on' : 'off'}.`);
    },
  },
  ...(['on', 'off'] as const).map((state): CommandSpec => ({
    name: `maintenance:${state}`,
    summary: `Turns maintenance mode ${state} for an application.${state === 'on' ? ' The router answers 503 with a maintenance page.' : ''}`,
    app: true,
    async run(ctx, { values }) {
      const session = await ctx.session();
      const app = await ctx.app(session, stringOption(values, 'app'));
      await ctx.progress(`${state === 'on' ? 'Enabling' : 'Disabling'} maintenance mode for ${app}... `, () => postSettings(session, app, { maintenance: state === 'on' }));
    },
  })),
  {
    name: 'routing:info',
    summary: 'Prints the routability of an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const session = await ctx.session();
      const app = await ctx.app(session, stringOption(values, 'app'));
      const settings = await getSettings(session, app);
      if (ctx.json) return void ctx.emit({ routable: settings.routable });
      ctx.say(`Routing is ${settings.routable ? 'enabled' : 'disabled'}.`);
    },
  },
  ...(['enable', 'disable'] as const).map((state): CommandSpec => ({
    name: `routing:${state}`,
    summary: `${state === 'enable' ? 'Enables' : 'Disables'} routing for an application${state === 'disable' ? ': the router stops serving it' : ''}.`,
    app: true,
    async run(ctx, { values }) {
      const session = await ctx.session();
      const app = await ctx.app(session, stringOption(values, 'app'));
      await ctx.progress(`${state === 'enable' ? 'Enabling' : 'Disabling'} routing for ${app}... `, () => postSettings(session, app, { routable: state === 'enable' }));
    },
  })),
  {
    name: 'tls:info',
    summary: 'Prints the TLS settings of an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const session = await ctx.session();
      const app = await ctx.app(session, stringOption(values, 'app'));
      const { data } = await session.client.request<Tls>('GET', `/v2/apps/${app}/tls/`);
      if (ctx.json) return void ctx.emit(data);
      ctx.say(`=== ${app} TLS`);
      ctx.say(`HTTPS Enforced: ${data.https_enforced === true}`);
    },
  },
  ...(['enable', 'disable'] as const).map((state): CommandSpec => ({
    name: `tls:${state}`,
    summary: `${state === 'enable' ? 'Enforces' : 'Stops enforcing'} https-only requests to an application${state === 'enable' ? ' (plain http is redirected)' : ''}.`,
    app: true,
    async run(ctx, { values }) {
      const session = await ctx.session();
      const app = await ctx.app(session, stringOption(values, 'app'));
      await ctx.progress(`${state === 'enable' ? 'Enabling' : 'Disabling'} https-only requests for ${app}... `, () =>
        session.client.request('POST', `/v2/apps/${app}/tls/`, { body: { https_enforced: state === 'enable' } }),
      );
    },
  })),
];
