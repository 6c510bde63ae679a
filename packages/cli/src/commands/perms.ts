/**
 * `perms:*` (app collaborators, or with --admin the platform's administrators) and `users:list`.
 * @module
 */
import type { User } from '@deis/sdk/types';
import { limitCount } from '../command-context.ts';
import { flagOption, stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { accountListCommand, limitOption } from '../list-command.ts';

const adminOption = { admin: { type: 'boolean', description: 'the system administrators instead of an app\'s collaborators.' } } as const;
const userArg = [{ name: 'username', required: true, description: 'the name of the user.' }];

/** perms:create and perms:delete: a user added to (granted) or removed from an app's collaborators, or with --admin the administrators. */
function permChange(name: string, summary: string, grant: boolean): CommandSpec {
  return {
    name,
    summary,
    args: userArg,
    app: true,
    options: { ...adminOption },
    async run(ctx, { values, positionals }) {
      const session = await ctx.session();
      const username = positionals[0]!;
      let collection = '/v2/admin/perms/';
      let group = 'system administrators';
      if (!flagOption(values, 'admin')) {
        const app = await ctx.app(session, stringOption(values, 'app'));
        collection = `/v2/apps/${app}/perms/`;
        group = `${app} collaborators`;
      }
      if (grant) await ctx.progress(`Adding ${username} to ${group}... `, () => session.client.request('POST', collection, { body: { username } }));
      else await ctx.progress(`Removing ${username} from ${group}... `, () => session.client.request('DELETE', `${collection}${encodeURIComponent(username)}`));
    },
  };
}

export const permCommands: CommandSpec[] = [
  {
    name: 'perms:list',
    summary: "Lists the users who may use an app (its collaborators), or with --admin the system administrators.",
    app: true,
    json: true,
    options: { ...adminOption, ...limitOption },
    async run(ctx, { values }) {
      const session = await ctx.session();
      if (flagOption(values, 'admin')) {
        const page = await ctx.list<{ username: string }>(session, '/v2/admin/perms/', stringOption(values, 'limit'));
        if (ctx.json) return void ctx.emit(page.results.map((user) => user.username));
        ctx.say(`=== Administrators${limitCount(page.results.length, page.count)}`);
        for (const user of page.results) ctx.say(user.username);
        return;
      }
      const app = await ctx.app(session, stringOption(values, 'app'));
      const { data } = await session.client.request<{ users: string[] }>('GET', `/v2/apps/${app}/perms/`);
      if (ctx.json) return void ctx.emit(data.users);
      ctx.say(`=== ${app}'s Users`);
      for (const user of data.users) ctx.say(user);
    },
  },
  permChange('perms:create', 'Gives a user permission to use an app, or with --admin makes them a system administrator.', true),
  permChange('perms:delete', "Revokes a user's permission to use an app, or with --admin their administrator rights.", false),
  accountListCommand<User>({
    name: 'users:list',
    summary: 'Lists all registered users (administrators only).',
    path: '/v2/users/',
    heading: () => 'Users (*=admin)',
    line: (user) => `${user.is_superuser ? '*' : ' '}${user.username}`,
  }),
];
