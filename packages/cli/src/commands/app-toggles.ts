/**
 * The on/off switches of an app: `maintenance:*`, `routing:*` (settings) and `tls:*` (https enforcement).
 * @module
 */
import type { Tls } from '@deis/sdk/types';
import { getSettings, postSettings } from '../app-settings.ts';
import type { Session } from '../command-context.ts';
import type { CommandSpec } from '../command-spec.ts';

/** `<topic>:info` of a boolean app setting: `{ <key>: value }` under --json, else a sentence. */
function settingInfo(topic: string, summary: string, key: 'maintenance' | 'routable', sentence: (value: boolean) => string): CommandSpec {
  return {
    name: `${topic}:info`,
    summary,
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const settings = await getSettings(session, app);
      if (ctx.json) return void ctx.emit({ [key]: settings[key] });
      ctx.say(sentence(settings[key]));
    },
  };
}

interface Switch {
  topic: string;
  /** The action turning it on, then the one turning it off, e.g. `on`, `off`. */
  actions: readonly [string, string];
  summary(on: boolean): string;
  /** What the progress line says is being enabled or disabled. */
  subject: string;
  set(session: Session, app: string, on: boolean): Promise<unknown>;
}

/** The pair of commands that turn a switch on and off. */
function switchCommands(spec: Switch): CommandSpec[] {
  return spec.actions.map((action, index): CommandSpec => {
    const on = index === 0;
    return {
      name: `${spec.topic}:${action}`,
      summary: spec.summary(on),
      app: true,
      async run(ctx, { values }) {
        const { session, app } = await ctx.appSession(values);
        await ctx.progress(`${on ? 'Enabling' : 'Disabling'} ${spec.subject} for ${app}... `, () => spec.set(session, app, on));
      },
    };
  });
}

export const toggleCommands: CommandSpec[] = [
  settingInfo('maintenance', 'Prints the maintenance mode status of an application.', 'maintenance', (on) => `Maintenance mode is ${on ? 'on' : 'off'}.`),
  ...switchCommands({
    topic: 'maintenance',
    actions: ['on', 'off'],
    summary: (on) => `Turns maintenance mode ${on ? 'on' : 'off'} for an application.${on ? ' The router answers 503 with a maintenance page.' : ''}`,
    subject: 'maintenance mode',
    set: (session, app, on) => postSettings(session, app, { maintenance: on }),
  }),
  settingInfo('routing', 'Prints the routability of an application.', 'routable', (on) => `Routing is ${on ? 'enabled' : 'disabled'}.`),
  ...switchCommands({
    topic: 'routing',
    actions: ['enable', 'disable'],
    summary: (on) => `${on ? 'Enables' : 'Disables'} routing for an application${on ? '' : ': the router stops serving it'}.`,
    subject: 'routing',
    set: (session, app, on) => postSettings(session, app, { routable: on }),
  }),
  {
    name: 'tls:info',
    summary: 'Prints the TLS settings of an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const { data } = await session.client.request<Tls>('GET', `/v2/apps/${app}/tls/`);
      if (ctx.json) return void ctx.emit(data);
      ctx.say(`=== ${app} TLS`);
      ctx.say(`HTTPS Enforced: ${data.https_enforced === true}`);
    },
  },
  ...switchCommands({
    topic: 'tls',
    actions: ['enable', 'disable'],
    summary: (on) => `${on ? 'Enforces' : 'Stops enforcing'} https-only requests to an application${on ? ' (plain http is redirected)' : ''}.`,
    subject: 'https-only requests',
    set: (session, app, on) => session.client.request('POST', `/v2/apps/${app}/tls/`, { body: { https_enforced: on } }),
  }),
];
