/**
 * Paginated list commands: the `-l --limit` flag they all take, and the `<topic>:list` of an app's collection (builds,
 * domains, releases), which differ only in the collection, its heading and how one item is printed.
 * @module
 */
import { limitCount } from './command-context.ts';
import { stringOption } from './command-spec.ts';
import type { CommandSpec } from './command-spec.ts';

export const limitOption = { limit: { type: 'string', short: 'l', valueName: '<num>', description: 'the maximum number of results to display, defaults to config setting' } } as const;

export interface AppListSpec<T> {
  name: string;
  summary: string;
  /** The URL segment under `/v2/apps/{app}/`, e.g. `builds`. */
  collection: string;
  /** Follows the app's name in the `=== <app> <heading>` line. */
  heading: string;
  line(item: T): string;
}

/** Prints the page of the collection the profile's limit (or --limit) allows; under --json, the page's items. */
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
      if (ctx.json) return void ctx.emit(page.results);
      ctx.say(`=== ${app} ${spec.heading}${limitCount(page.results.length, page.count)}`);
      for (const item of page.results) ctx.say(spec.line(item));
    },
  };
}
