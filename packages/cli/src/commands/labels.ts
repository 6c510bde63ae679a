/**
 * `labels:*`: free-form key/value labels on an app (settings.label).
 * @module
 */
import type { CommandContext } from '../command-context.ts';
import { getSettings, postSettings } from '../app-settings.ts';
import type { CommandSpec, OptionValues } from '../command-spec.ts';
import { parseKeyValues } from '../key-value-args.ts';

export function printLabels(ctx: CommandContext, app: string, labels: Record<string, string>): void {
  ctx.say(`=== ${app} Label`);
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) ctx.say('No labels found.');
  for (const key of keys) ctx.say(`${key}:  ${labels[key]}`);
}

/** labels:set and labels:unset: a change of settings.label (null removes a key), then under --json the labels now set. */
async function changeLabels(ctx: CommandContext, values: OptionValues, verb: 'Applying' | 'Removing', label: Record<string, string | null>): Promise<void> {
  const { session, app } = await ctx.appSession(values);
  const settings = await ctx.progress(`${verb} labels on ${app}... `, () => postSettings(session, app, { label }));
  if (ctx.json) ctx.emit(settings.label ?? {});
}

export const labelCommands: CommandSpec[] = [
  {
    name: 'labels:list',
    summary: 'Prints a list of labels of the application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const settings = await getSettings(session, app);
      if (ctx.json) return void ctx.emit(settings.label ?? {});
      printLabels(ctx, app, settings.label);
    },
  },
  {
    name: 'labels:set',
    summary: 'Sets labels for an application.',
    args: [{ name: 'key=value', required: true, variadic: true, description: 'the label key and its value, e.g. team=ops.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const labels = parseKeyValues(positionals, /^([A-Za-z0-9][A-Za-z0-9_.\-/]*)=([\s\S]*)$/, 'team=ops');
      await changeLabels(ctx, values, 'Applying', labels);
    },
  },
  {
    name: 'labels:unset',
    summary: 'Removes labels from an application.',
    args: [{ name: 'key', required: true, variadic: true, description: 'the label key to remove.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      await changeLabels(ctx, values, 'Removing', Object.fromEntries(positionals.map((key) => [key, null])));
    },
  },
];
