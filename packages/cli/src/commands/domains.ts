/**
 * `domains:*`: the host names routed to an app.
 * @module
 */
import type { Domain } from '@deis/sdk/types';
import type { CommandSpec } from '../command-spec.ts';
import { appListCommand } from '../list-command.ts';

const domainArg = [{ name: 'domain', required: true, description: 'the domain name, e.g. www.example.com or *.example.com.' }];

export const domainCommands: CommandSpec[] = [
  appListCommand<Domain>({
    name: 'domains:list',
    summary: 'Lists domains bound to an application.',
    collection: 'domains',
    heading: 'Domains',
    line: (domain) => domain.domain,
  }),
  {
    name: 'domains:add',
    summary: 'Binds a domain to an application.',
    args: domainArg,
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const domain = positionals[0]!;
      const { data } = await ctx.progress(`Adding ${domain} to ${app}... `, () => session.client.request<Domain>('POST', `/v2/apps/${app}/domains/`, { body: { domain } }));
      if (ctx.json) ctx.emit(data);
    },
  },
  {
    name: 'domains:remove',
    summary: 'Unbinds a domain from an application.',
    args: domainArg,
    app: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const domain = positionals[0]!;
      await ctx.progress(`Removing ${domain} from ${app}... `, () => session.client.request('DELETE', `/v2/apps/${app}/domains/${encodeURIComponent(domain)}`));
    },
  },
];
