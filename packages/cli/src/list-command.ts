/**
 * Paginated list commands: the `-l --limit` flag they all take, and the `<topic>:list` commands that differ only in the
 * collection they page through, its heading and how one item is printed: an app's (builds, domains, releases) or the
 * account's (apps, keys, users).
 * @module
 */
import type { Page } from '@deis/sdk/types';
import type { CommandContext, Session } from './command-context.ts';
import { limitCount } from './command-context.ts';
import { stringOption } from './command-spec.ts';
import type { CommandSpec } from './command-spec.ts';

export const limitOption = { limit: { type: 'string', short: 'l', valueName: '<num>', description: 'the maximum number of results to display, defaults to config setting' } } as const;

interface ListSpec<T> {
  name: string;
  summary: string;
  line(item: T): string;
}

/** The page's items under --json; else the heading with its `(shown of total)` count, then a line per item. */
function showPage<T>(ctx: CommandContext, page: Page<T>, heading: string, line: (item: T) => string): void {
  if (ctx.json) return void ctx.emit(page.results);
  ctx.say(`=== ${heading}${limitCount(page.results.length, page.count)}`);
  for (const item of page.results) ctx.say(line(item));
}

export interface AppListSpec<T> extends ListSpec<T> {
  /** The URL segment under `/v2/apps/{app}/`, e.g. `builds`. */
  collection: string;
  /** Follows the app's name in the `=== <app> <heading>` line. */
  heading: string;
}

/** Lists the page of an app's collection that the profile's limit (or --limit) allows. */
export function appListCommand<T>(spec: AppListSpec<T>): CommandSpec {
  return {
    name: spec.name,
    summary: spec.summary,
    app: true,
    json: true,
    options: { ...limitOption },
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const page = await ctx.list<T>(session, `/v2/apps/${app}/${spec.collection}/`, stringOption(values, 'limit'));
      showPage(ctx, page, `${app} ${spec.heading}`, spec.line);
    },
  };
}

export interface AccountListSpec<T> extends ListSpec<T> {
  path: string;
  heading(session: Session): string;
}

/** Lists the page of a collection outside any app that the profile's limit (or --limit) allows. */
export function accountListCommand<T>(spec: AccountListSpec<T>): CommandSpec {
  return {
    name: spec.name,
    summary: spec.summary,
    json: true,
    options: { ...limitOption },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const page = await ctx.list<T>(session, spec.path, stringOption(values, 'limit'));
      showPage(ctx, page, spec.heading(session), spec.line);
    },
  };
}
