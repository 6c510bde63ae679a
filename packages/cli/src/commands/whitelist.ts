/**
 * `whitelist:*`: the addresses (IPs, CIDRs) allowed to reach an app; empty means everyone.
 * @module
 */
import type { CommandSpec } from '../command-spec.ts';

function splitAddresses(args: string[]): string[] {
  return args.flatMap((arg) => arg.split(',')).map((a) => a.trim()).filter(Boolean);
}

const addressesArg = [{ name: 'addresses', required: true, variadic: true, description: 'comma-separated list of IP addresses or CIDR ranges, e.g. 1.2.3.4,10.0.0.0/8.' }];

/** whitelist:add and whitelist:remove: the same addresses, sent to be added or removed. */
function addressChange(name: string, summary: string, add: boolean): CommandSpec {
  return {
    name,
    summary,
    args: addressesArg,
    app: true,
    async run(ctx, { values, positionals }) {
      const addresses = splitAddresses(positionals);
      const { session, app } = await ctx.appSession(values);
      const label = add ? `Adding ${addresses.join(',')} to ${app} whitelist... ` : `Removing ${addresses.join(',')} from ${app} whitelist... `;
      await ctx.progress(label, () => session.client.request(add ? 'POST' : 'DELETE', `/v2/apps/${app}/whitelist/`, { body: { addresses } }));
    },
  };
}

export const whitelistCommands: CommandSpec[] = [
  {
    name: 'whitelist:list',
    summary: 'Lists the addresses allowed to reach an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const { data } = await session.client.request<{ addresses: string[] }>('GET', `/v2/apps/${app}/whitelist/`);
      if (ctx.json) return void ctx.emit(data.addresses);
      ctx.say(`=== ${app} Whitelisted Addresses`);
      for (const address of data.addresses) ctx.say(address);
    },
  },
  addressChange('whitelist:add', 'Adds addresses to the whitelist of an application.', true),
  addressChange('whitelist:remove', 'Removes addresses from the whitelist of an application.', false),
];
