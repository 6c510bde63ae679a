/**
 * `drains:*`, our extension: an app's log drains, where its log lines are also sent (syslog over TCP or TLS, or
 * HTTPS). The platform shows drain URLs masked, so a drain is removed by the URL it was added with or by its uuid.
 * @module
 */
import type { CommandSpec } from '../command-spec.ts';
import { appListCommand } from '../list-command.ts';

interface Drain {
  uuid: string;
  app: string;
  url: string;
  created: string;
}

export const drainCommands: CommandSpec[] = [
  appListCommand<Drain>({
    name: 'drains:list',
    summary: 'Lists the log drains of an application (URLs masked).',
    collection: 'drains',
    heading: 'Log Drains',
    line: (drain) => `${drain.uuid} ${drain.url}`,
  }),
  {
    name: 'drains:add',
    summary: 'Sends an application\'s log lines to a drain as well.',
    details: 'URL is syslog://host:port, syslog+tls://host:port (RFC 5424 syslog) or https://… (batched POSTs). A drain that is slow or away never holds up the app.',
    args: [{ name: 'url', required: true, description: 'where to send the lines: syslog://, syslog+tls:// or https://.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const url = positionals[0]!;
      const { data } = await ctx.progress(`Adding a log drain to ${app}... `, () => session.client.request<Drain>('POST', `/v2/apps/${app}/drains/`, { body: { url } }));
      if (ctx.json) ctx.emit(data);
      else ctx.say(`${data.uuid} ${data.url}`);
    },
  },
  {
    name: 'drains:remove',
    summary: 'Stops sending an application\'s log lines to a drain.',
    args: [{ name: 'drain', required: true, description: 'the drain\'s URL as it was added, or its uuid (drains:list shows it).' }],
    app: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const drain = positionals[0]!;
      const byUrl = drain.includes('://');
      await ctx.progress(`Removing a log drain from ${app}... `, () =>
        byUrl
          ? session.client.request('DELETE', `/v2/apps/${app}/drains/`, { body: { url: drain } })
          : session.client.request('DELETE', `/v2/apps/${app}/drains/${encodeURIComponent(drain)}`),
      );
    },
  },
];
