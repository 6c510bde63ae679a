/**
 * `git:remote` and `git:remove`, and the remote handling `apps:create` and `apps:destroy` share.
 * @module
 */
import { appFromRemoteUrl, isBuilderRemote, remoteUrl } from '../builder-remote.ts';
import { CliError } from '../cli-errors.ts';
import type { CommandContext, Session } from '../command-context.ts';
import { flagOption, stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { listRemotes, runGit } from '../git.ts';

export async function addRemote(ctx: CommandContext, session: Session, app: string, name: string, force: boolean): Promise<void> {
  const url = remoteUrl(session.profile.controller, app, ctx.io.env);
  const remotes = await listRemotes(ctx.io.cwd, ctx.io.env);
  const existing = remotes.find((remote) => remote.name === name);
  if (existing && existing.url === url) {
    ctx.say(`Remote ${name} already exists and is correctly configured for app ${app}.`);
    return;
  }
  if (existing && !force) {
    throw new CliError(`A git remote with the name ${name} already exists. To overwrite this remote run:\ndeis git:remote --force --remote ${name} --app ${app}`);
  }
  const result = existing
    ? await runGit(['remote', 'set-url', name, url], ctx.io.cwd, ctx.io.env)
    : await runGit(['remote', 'add', name, url], ctx.io.cwd, ctx.io.env);
  if (result.code !== 0) {
    const reason = result.stderr.trim() || `git exited with code ${result.code}`;
    throw new CliError(`Could not add the git remote ${name}: ${reason}`, {
      hint: /not a git repository/i.test(reason) ? `Run 'git init' first, or use --no-remote.` : undefined,
    });
  }
  ctx.say(`Git remote ${name} successfully created for app ${app}.`);
}

/** Removes every remote of this directory's repository that points at the app on this controller's builder. */
export async function removeAppRemotes(ctx: CommandContext, session: Session, app: string, quietIfNone: boolean): Promise<void> {
  const remotes = await listRemotes(ctx.io.cwd, ctx.io.env);
  const mine = remotes.filter((remote) => appFromRemoteUrl(remote.url) === app && (remote.name === 'deis' || isBuilderRemote(remote.url, session.profile.controller, ctx.io.env)));
  if (mine.length === 0) {
    if (quietIfNone) return;
    throw new CliError(`No git remotes for app ${app} were found.`);
  }
  for (const remote of mine) {
    const result = await runGit(['remote', 'remove', remote.name], ctx.io.cwd, ctx.io.env);
    if (result.code !== 0) throw new CliError(`Could not remove the git remote ${remote.name}: ${result.stderr.trim()}`);
  }
  ctx.say(`Git remotes for app ${app} removed.`);
}

export const gitCommands: CommandSpec[] = [
  {
    name: 'git:remote',
    summary: 'Adds a git remote for an app to the repository in the current directory.',
    app: true,
    options: {
      remote: { type: 'string', short: 'r', valueName: '<remote>', default: 'deis', description: 'name of the remote. [default: deis]' },
      force: { type: 'boolean', short: 'f', description: 'overwrite the remote if it already exists.' },
    },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const flag = stringOption(values, 'app');
      if (!flag) throw new CliError('git:remote needs the app: pass -a <app>.');
      await addRemote(ctx, session, flag, stringOption(values, 'remote') ?? 'deis', flagOption(values, 'force'));
    },
  },
  {
    name: 'git:remove',
    summary: 'Removes the git remotes of an app from the repository in the current directory.',
    app: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      await removeAppRemotes(ctx, session, app, false);
    },
  },
];
