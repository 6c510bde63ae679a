/**
 * `register`, `login`, `logout`, `passwd`, `whoami`, `cancel`, `regenerate`: accounts, and the profile they write.
 * @module
 */
import type { User } from '@deis/sdk/types';
import { ApiError } from '@deis/sdk/client';
import { CliError, UsageError } from '../cli-errors.ts';
import type { CommandContext } from '../command-context.ts';
import { flagOption, stringOption } from '../command-spec.ts';
import type { CommandSpec, OptionValues } from '../command-spec.ts';
import { DEFAULT_RESPONSE_LIMIT, deleteProfile, readProfile, writeProfile } from '../profile.ts';

/** `deis.example.com` → `http://deis.example.com`; an explicit scheme is kept. */
export function controllerUrl(raw: string): string {
  const withScheme = /^https?:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`'${raw}' is not a controller URL, e.g. http://deis.example.com`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function sslVerify(values: OptionValues): boolean {
  const raw = values['ssl-verify'];
  if (raw === undefined) return true;
  if (typeof raw === 'string') {
    if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
    if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
    throw new UsageError(`--ssl-verify must be true or false, not '${raw}'`);
  }
  return true;
}

/** The Deis CLI's connection check: the API root must refuse an anonymous request with 401. */
async function checkController(ctx: CommandContext, controller: string, verify: boolean): Promise<void> {
  const client = ctx.anonymousClient(controller, verify);
  try {
    await client.request('GET', '/v2/');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    if (error instanceof ApiError) throw new CliError(`${controller} does not look like a Deis controller (GET /v2/ answered ${error.status}).`);
    throw error;
  }
  throw new CliError(`${controller} does not look like a Deis controller (GET /v2/ did not ask for credentials).`);
}

async function valueOrAsk(ctx: CommandContext, values: OptionValues, name: string, question: string, secret = false): Promise<string> {
  const given = stringOption(values, name);
  if (given !== undefined) return given;
  const answer = secret ? await ctx.askSecret(question) : await ctx.ask(question);
  if (!answer) throw new UsageError(`a ${name.replace('-', ' ')} is required`);
  return answer;
}

/** How register and login begin: a controller that answers as one, then the username and password (asked unless given). */
async function credentials(ctx: CommandContext, values: OptionValues, rawController: string): Promise<{ controller: string; verify: boolean; username: string; password: string }> {
  const controller = controllerUrl(rawController);
  const verify = sslVerify(values);
  await checkController(ctx, controller, verify);
  const username = await valueOrAsk(ctx, values, 'username', 'username: ');
  const password = await valueOrAsk(ctx, values, 'password', 'password: ', true);
  return { controller, verify, username, password };
}

async function logIn(ctx: CommandContext, controller: string, verify: boolean, username: string, password: string): Promise<void> {
  const client = ctx.anonymousClient(controller, verify);
  const { data } = await client.request<{ token: string }>('POST', '/v2/auth/login/', { body: { username, password } });
  const path = ctx.profilePath();
  const previous = readProfile(path);
  writeProfile(path, { controller, token: data.token, username, ssl_verify: verify, response_limit: previous?.response_limit ?? DEFAULT_RESPONSE_LIMIT });
  ctx.say(`Logged in as ${username}`);
  ctx.say(`Configuration file written to ${path}`);
}

const controllerArg = [{ name: 'controller', required: true, description: 'fully-qualified controller URI, e.g. `http://deis.local3.deisapp.com/`' }];
const sslOption = { 'ssl-verify': { type: 'string', valueName: 'true|false', description: 'enables/disables SSL certificate verification for API requests. [default: true]' } } as const;

export const authCommands: CommandSpec[] = [
  {
    name: 'auth:register',
    summary: 'Registers a new user with a Deis controller.',
    details: 'Asks for whatever is not given. The first user registered becomes an administrator. When the controller only lets administrators register users, run this logged in as one (with --login=false to stay logged in as yourself).',
    args: controllerArg,
    options: {
      username: { type: 'string', valueName: '<username>', description: 'provide a username for the new account.' },
      password: { type: 'string', valueName: '<password>', description: 'provide a password for the new account.' },
      email: { type: 'string', valueName: '<email>', description: 'provide an email address.' },
      login: { type: 'string', valueName: 'true|false', description: 'logs in the new user after registering. [default: true]' },
      ...sslOption,
    },
    async run(ctx, { values, positionals }) {
      const { controller, verify, username, password } = await credentials(ctx, values, positionals[0]!);
      if (stringOption(values, 'password') === undefined) {
        const again = await ctx.askSecret('password (confirm): ');
        if (again !== password) throw new CliError('Password mismatch, aborting registration.');
      }
      const email = await valueOrAsk(ctx, values, 'email', 'email: ');
      const current = readProfile(ctx.profilePath());
      const token = current && current.controller === controller && current.token ? current.token : undefined;
      // An administrator's token lets registration through when the controller admits only admins' registrations.
      const client = ctx.anonymousClient(controller, verify, token);
      await client.request<User>('POST', '/v2/auth/register/', { body: { username, password, email } });
      ctx.say(`Registered ${username}`);
      const login = stringOption(values, 'login');
      if (login === undefined || !['false', '0', 'no'].includes(login.toLowerCase())) await logIn(ctx, controller, verify, username, password);
    },
  },
  {
    name: 'auth:login',
    summary: 'Logs in by authenticating against a controller.',
    args: controllerArg,
    options: {
      username: { type: 'string', valueName: '<username>', description: 'provide a username for the account.' },
      password: { type: 'string', valueName: '<password>', description: 'provide a password for the account.' },
      ...sslOption,
    },
    async run(ctx, { values, positionals }) {
      const { controller, verify, username, password } = await credentials(ctx, values, positionals[0]!);
      await logIn(ctx, controller, verify, username, password);
    },
  },
  {
    name: 'auth:logout',
    summary: 'Logs out from a controller and clears the user session.',
    async run(ctx) {
      deleteProfile(ctx.profilePath());
      ctx.say('Logged out');
    },
  },
  {
    name: 'auth:passwd',
    summary: 'Changes the password for the current user.',
    details: 'An administrator may change another user\'s password with --username, without the current password.',
    options: {
      password: { type: 'string', valueName: '<password>', description: 'the current password for the account.' },
      'new-password': { type: 'string', valueName: '<password>', description: 'the new password for the account.' },
      username: { type: 'string', valueName: '<username>', description: 'the account\'s username (administrators only).' },
    },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const username = stringOption(values, 'username');
      const body: Record<string, string> = {};
      if (username) body.username = username;
      if (!username || stringOption(values, 'password') !== undefined) body.password = await valueOrAsk(ctx, values, 'password', 'current password: ', true);
      body.new_password = await valueOrAsk(ctx, values, 'new-password', 'new password: ', true);
      if (stringOption(values, 'new-password') === undefined) {
        const again = await ctx.askSecret('new password (confirm): ');
        if (again !== body.new_password) throw new CliError('Password mismatch, not changing.');
      }
      await ctx.progress('Processing... ', () => session.client.request('POST', '/v2/auth/passwd/', { body }));
      ctx.say('Password change succeeded.');
    },
  },
  {
    name: 'auth:whoami',
    summary: 'Displays the currently logged in user.',
    json: true,
    options: { all: { type: 'boolean', description: 'fetch a more detailed description about the user.' } },
    async run(ctx, { values }) {
      const session = await ctx.session();
      if (!flagOption(values, 'all') && !ctx.json) return void ctx.say(`You are ${session.profile.username} at ${session.profile.controller}`);
      const { data: user } = await session.client.request<User>('GET', '/v2/auth/whoami/');
      if (ctx.json) return void ctx.emit(user);
      ctx.say(`ID: ${(user as User & { id?: number }).id ?? 0}`);
      ctx.say(`Username: ${user.username}`);
      ctx.say(`Email: ${user.email}`);
      ctx.say(`First Name: ${user.first_name}`);
      ctx.say(`Last Name: ${user.last_name}`);
      ctx.say(`Last Login: ${user.last_login ?? ''}`);
      ctx.say(`Is Superuser: ${user.is_superuser}`);
      ctx.say(`Is Staff: ${user.is_staff}`);
      ctx.say(`Is Active: ${user.is_active}`);
      ctx.say(`Date Joined: ${user.date_joined}`);
    },
  },
  {
    name: 'auth:cancel',
    summary: 'Cancels and removes the current account (or, for an administrator, the --username account).',
    options: {
      username: { type: 'string', valueName: '<username>', description: 'the account to cancel (administrators only; default: yourself).' },
      password: { type: 'string', valueName: '<password>', description: 'accepted for compatibility; not needed.' },
      yes: { type: 'boolean', description: 'confirm that you want to cancel the account, without asking.' },
    },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const username = stringOption(values, 'username');
      const target = username ?? session.profile.username;
      if (!flagOption(values, 'yes')) {
        ctx.say('Please log in again in order to cancel this account');
        const answer = await ctx.ask(`cancel account "${target}" at ${session.profile.controller}? (y/N): `);
        if (answer.toLowerCase() !== 'y') throw new CliError('Account not changed');
      }
      await session.client.request('DELETE', '/v2/auth/cancel/', username ? { body: { username } } : {});
      if (target === session.profile.username) deleteProfile(session.profilePath);
      ctx.say('Account cancelled');
    },
  },
  {
    name: 'auth:regenerate',
    summary: 'Regenerates the API token of the current user (or, for an administrator, of another user or all users).',
    options: {
      username: { type: 'string', short: 'u', valueName: '<username>', description: 'the user whose token to regenerate (administrators only).' },
      all: { type: 'boolean', description: 'regenerate the tokens of every user (administrators only).' },
    },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const username = stringOption(values, 'username');
      const all = flagOption(values, 'all');
      const body: Record<string, unknown> = {};
      if (username) body.username = username;
      if (all) body.all = true;
      const { data } = await session.client.request<{ token?: string } | string>('POST', '/v2/auth/tokens/', { body });
      const token = typeof data === 'object' && data ? data.token : undefined;
      if (!username && !all && token) writeProfile(session.profilePath, { ...session.profile, token });
      ctx.say('Token Regenerated');
      // Every token changed, ours included: the stored one no longer works.
      if (all) ctx.warn("Your own token changed too: run 'deis login' again.");
    },
  },
];
