/**
 * `apps:*`: create (with the git remote), list, info, open, logs, run, destroy, transfer.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from '@deis/sdk/client';
import type { App, AppSettings, Domain, Pod, RunResult } from '@deis/sdk/types';
import { detachedRunPath } from '@deis/sdk/run-protocol';
import type { DetachedRun } from '@deis/sdk/run-protocol';
import { CliError, UsageError } from '../cli-errors.ts';
import type { CommandContext, Session } from '../command-context.ts';
import { limitCount } from '../command-context.ts';
import { flagOption, stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { accountListCommand } from '../list-command.ts';
import { runOnTerminal, wantsTerminal } from '../terminal-session.ts';
import type { TerminalIO } from '../terminal-session.ts';
import { addRemote, removeAppRemotes } from './git.ts';
import { printLabels } from './labels.ts';
import { printProcesses } from './ps.ts';
import { openStream, refusalOf } from '../transport.ts';
import { CLI_VERSION } from '../version.ts';

/** A bare domain (the app id) becomes a host under the controller's domain: `deis.example.com` → `<app>.example.com`. */
export function expandDomain(controller: string, domain: string): string {
  if (domain.includes('.')) return domain;
  const labels = new URL(controller).hostname.split('.');
  labels[0] = domain;
  return labels.join('.');
}

async function appUrl(session: Session, app: string): Promise<string | null> {
  const { data } = await session.client.request<{ results: Domain[] }>('GET', `/v2/apps/${app}/domains/`, { query: { limit: 1 } });
  const first = data.results[0];
  return first ? expandDomain(session.profile.controller, first.domain) : null;
}

async function printDomainsOf(ctx: CommandContext, session: Session, app: string): Promise<Domain[]> {
  const page = await ctx.list<Domain>(session, `/v2/apps/${app}/domains/`);
  ctx.say(`=== ${app} Domains${limitCount(page.results.length, page.count)}`);
  for (const domain of page.results) ctx.say(domain.domain);
  return page.results;
}

/**
 * One argument is the whole command as the user quoted it (`deis run "ls -la"`); several (`deis run -- sh -c 'a; b'`)
 * are re-quoted where the shell would split or interpret them, so the remote shell sees the same words.
 */
export function joinCommand(args: string[]): string {
  if (args.length === 1) return args[0]!;
  return args.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export const appCommands: CommandSpec[] = [
  {
    name: 'apps:create',
    summary: 'Creates a new application.',
    details: "If no <id> is given, the controller makes a random name. A git remote named 'deis' (see --remote) is added to the repository in the current directory.",
    args: [{ name: 'id', description: 'a uniquely identifiable name for the application. No other app can already exist with this name.' }],
    options: {
      'no-remote': { type: 'boolean', description: 'do not create a git remote for the application.' },
      buildpack: { type: 'string', short: 'b', valueName: '<url>', description: 'a buildpack url to use for this app (sets BUILDPACK_URL).' },
      remote: { type: 'string', short: 'r', valueName: '<remote>', default: 'deis', description: 'name of the remote to create. [default: deis]' },
    },
    json: true,
    async run(ctx, { values, positionals }) {
      const session = await ctx.session();
      const id = positionals[0];
      const app = await ctx.progress('Creating Application... ', async () => (await session.client.request<App>('POST', '/v2/apps/', { body: id ? { id } : {} })).data, (created) => `done, created ${created.id}`);
      const buildpack = stringOption(values, 'buildpack');
      if (buildpack) await session.client.request('POST', `/v2/apps/${app.id}/config/`, { body: { values: { BUILDPACK_URL: buildpack } } });
      const remote = stringOption(values, 'remote') ?? 'deis';
      if (flagOption(values, 'no-remote')) {
        ctx.say(`If you want to add a git remote for this app later, use \`deis git:remote -a ${app.id}\``);
      } else {
        await addRemote(ctx, session, app.id, remote, false);
      }
      if (ctx.json) ctx.emit(app);
    },
  },
  accountListCommand<App>({
    name: 'apps:list',
    summary: 'Lists applications visible to the current user.',
    path: '/v2/apps/',
    heading: () => 'Apps',
    line: (app) => app.id,
  }),
  {
    name: 'apps:info',
    summary: 'Prints info about the current application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app: id } = await ctx.appSession(values);
      const { data: app } = await session.client.request<App>('GET', `/v2/apps/${id}/`);
      if (ctx.json) {
        const [pods, domains, settings] = await Promise.all([
          ctx.list<Pod>(session, `/v2/apps/${id}/pods/`),
          ctx.list<Domain>(session, `/v2/apps/${id}/domains/`),
          session.client.request<AppSettings>('GET', `/v2/apps/${id}/settings/`),
        ]);
        return void ctx.emit({ app, url: await appUrl(session, id), processes: pods.results, domains: domains.results.map((d) => d.domain), labels: settings.data.label });
      }
      const url = (await appUrl(session, id)) ?? `No domain assigned to ${id}`;
      ctx.say(`=== ${app.id} Application`);
      ctx.say(`updated:  ${app.updated}`);
      ctx.say(`uuid:     ${app.uuid}`);
      ctx.say(`created:  ${app.created}`);
      ctx.say(`url:      ${url}`);
      ctx.say(`owner:    ${app.owner}`);
      ctx.say(`id:       ${app.id}`);
      ctx.say();
      printProcesses(ctx, id, (await ctx.list<Pod>(session, `/v2/apps/${id}/pods/`)).results);
      ctx.say();
      await printDomainsOf(ctx, session, id);
      ctx.say();
      const { data: settings } = await session.client.request<AppSettings>('GET', `/v2/apps/${id}/settings/`);
      printLabels(ctx, id, settings.label);
      ctx.say();
    },
  },
  {
    name: 'apps:open',
    summary: 'Opens the application in a browser.',
    details: 'Prints the URL when no browser can be started (or with --print).',
    app: true,
    options: { print: { type: 'boolean', description: 'only print the URL.' } },
    async run(ctx, { values }) {
      const { session, app: id } = await ctx.appSession(values);
      const host = await appUrl(session, id);
      if (!host) throw new CliError(`No domain assigned to ${id}`);
      const url = /^https?:\/\//.test(host) ? host : `${new URL(session.profile.controller).protocol}//${host}`;
      ctx.say(url);
      if (flagOption(values, 'print') || !ctx.io.stdout.isTTY) return;
      const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
      const { spawn } = await import('node:child_process');
      await new Promise<void>((resolve) => {
        const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
        child.on('error', () => resolve());
        child.on('spawn', () => {
          child.unref();
          resolve();
        });
      });
    },
  },
  {
    name: 'apps:logs',
    summary: 'Retrieves the most recent log events.',
    app: true,
    details: 'With --follow, keeps the connection open and prints new lines as the app prints them, until interrupted.',
    options: {
      lines: { type: 'string', short: 'n', valueName: '<num>', description: 'the number of lines to display' },
      follow: { type: 'boolean', short: 'f', description: 'keep printing new log lines as they arrive (Ctrl-C stops).' },
      type: { type: 'string', valueName: '<type>', description: 'only lines of this process type (web, worker, ...).' },
      release: { type: 'string', valueName: '<version>', description: 'only lines of this release (v3 or 3).' },
    },
    json: true,
    async run(ctx, { values }) {
      const { session, app: id } = await ctx.appSession(values);
      const lines = stringOption(values, 'lines');
      if (lines !== undefined && !/^\d+$/.test(lines)) throw new UsageError(`--lines must be a whole number, not '${lines}'`);
      const filters = { type: stringOption(values, 'type'), release: stringOption(values, 'release') };
      if (!flagOption(values, 'follow')) {
        const { data } = await session.client.request<string | undefined>('GET', `/v2/apps/${id}/logs`, { query: { log_lines: lines, ...filters } });
        const text = typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data);
        const entries = text.replace(/\n+$/, '').split('\n').filter((line) => line !== '');
        if (ctx.json) return void ctx.emit(entries);
        for (const line of entries) ctx.say(line);
        return;
      }
      await followLogs(ctx, session, id, lines, filters);
    },
  },
  {
    name: 'apps:run',
    summary: 'Runs a command in an ephemeral app container.',
    details:
      'The command runs in a new container of the current release; its exit code becomes this command\'s exit code. Everything after the options (or after --) is the command. ' +
      'On a terminal (stdin and stdout both a TTY, no --json) it runs on a terminal of its own, interactively: `deis run bash` is a shell, keys (Ctrl-C too) go to the container, and the window size follows yours. ' +
      'Otherwise its output is printed once it has finished. With --detached it runs in the background, its output goes to the app\'s logs (`deis logs`), and its name is printed at once.',
    args: [{ name: 'command', required: true, variadic: true, description: 'the shell command to run inside the container.' }],
    options: { detached: { type: 'boolean', description: 'runs the command in the background; its output goes to the app\'s logs.' } },
    app: true,
    json: true,
    rawArgs: true,
    async run(ctx, { values, positionals }) {
      const command = joinCommand(positionals);
      if (!command.trim()) throw new UsageError('<command> is required', "Usage: deis apps:run [options] [--] <command>...");
      const { session, app: id } = await ctx.appSession(values);
      if (flagOption(values, 'detached')) {
        const { data } = await session.client.request<DetachedRun>('POST', detachedRunPath(id), { body: { command } });
        if (ctx.json) ctx.emit(data);
        else ctx.say(`Running '${command}' as ${data.name}; its output goes to 'deis logs -a ${id}'.`);
        return 0;
      }
      if (wantsTerminal(ctx.io, ctx.json)) {
        try {
          return await runOnTerminal(ctx.io as TerminalIO, session.profile, id, command);
        } catch (error) {
          // A controller without the terminal endpoint (the original Deis) still runs the command the old way. Nothing
          // was sent before the refusal, so no key is lost; an unknown app gets its 404 again from POST /run.
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        }
      }
      ctx.say(`Running '${command}'...`);
      const { data } = await session.client.request<RunResult>('POST', `/v2/apps/${id}/run`, { body: { command } });
      if (ctx.json) ctx.emit(data);
      else if (data.exit_code === 0) ctx.io.stdout.write(data.output);
      else ctx.io.stderr.write(data.output);
      return data.exit_code;
    },
  },
  {
    name: 'apps:destroy',
    summary: 'Destroys an application.',
    details: 'Asks for the app name unless --confirm gives it. Also removes the git remotes of the app when it was found from them.',
    app: true,
    options: { confirm: { type: 'string', valueName: '<app>', description: 'skips the prompt for the application name. <app> is the uniquely identifiable name for the application.' } },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const flag = stringOption(values, 'app');
      const id = await ctx.app(session, flag);
      let confirm = stringOption(values, 'confirm');
      if (confirm === undefined) {
        ctx.say(` !    WARNING: Potentially Destructive Action\n !    This command will destroy the application: ${id}\n !    To proceed, type "${id}" or re-run this command with --confirm=${id}\n`);
        confirm = await ctx.ask('> ');
      }
      if (confirm !== id) throw new CliError(`App ${id} does not match confirm ${confirm}, aborting.`);
      const started = Date.now();
      ctx.say(`Destroying ${id}...`);
      await session.client.request('DELETE', `/v2/apps/${id}/`);
      ctx.say(`done in ${Math.floor((Date.now() - started) / 1000)}s`);
      await removeAppRemotes(ctx, session, id, true);
    },
  },
  {
    name: 'apps:transfer',
    summary: 'Transfers app ownership to another user.',
    args: [{ name: 'username', required: true, description: 'the user who will own the application.' }],
    app: true,
    async run(ctx, { values, positionals }) {
      const { session, app: id } = await ctx.appSession(values);
      const owner = positionals[0]!;
      await ctx.progress(`Transferring ${id} to ${owner}... `, () => session.client.request('POST', `/v2/apps/${id}/`, { body: { owner } }));
    },
  },
];

/**
 * `logs -f`: one streamed answer (`?follow=true`) printed line by line as it arrives. When the stream ends (the
 * platform restarted, a proxy cut it) it is opened again after a second; lines seen already (each carries a time and
 * its process) are not printed twice. The memory of seen lines is bounded.
 */
async function followLogs(ctx: CommandContext, session: Session, id: string, lines: string | undefined, filters: { type: string | undefined; release: string | undefined }): Promise<never> {
  const seen = new Set<string>();
  const show = (line: string) => {
    if (line === '' || seen.has(line)) return;
    seen.add(line);
    if (seen.size > 10_000) seen.delete(seen.values().next().value as string);
    ctx.io.stdout.write(ctx.json ? `${JSON.stringify(line)}\n` : `${line}\n`);
  };
  const headers: Record<string, string> = { accept: 'text/plain', 'user-agent': `Deis Client ${CLI_VERSION}` };
  if (session.profile.token) headers.authorization = `token ${session.profile.token}`;
  let count = lines;
  for (;;) {
    const url = session.client.url(`/v2/apps/${id}/logs`, { follow: 'true', log_lines: count, ...filters });
    let response: IncomingMessage | undefined;
    try {
      response = await openStream(url, headers, { sslVerify: session.profile.ssl_verify });
    } catch {
      // The platform is away (restarting): try again below.
    }
    if (response) {
      const status = response.statusCode ?? 500;
      if (status >= 400) throw await refusalOf(status, response);
      await printLines(response, show);
    }
    // A reconnect asks for enough lines to cover the gap; the ones seen are skipped.
    count = '1000';
    await new Promise((resolve) => setTimeout(resolve, Number(ctx.io.env.DEIS_LOGS_RETRY_MS) || 1000));
  }
}

function printLines(response: IncomingMessage, show: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        show(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    const done = () => {
      if (pending !== '') show(pending);
      pending = '';
      resolve();
    };
    response.once('end', done);
    response.once('close', done);
    response.once('error', done);
  });
}
