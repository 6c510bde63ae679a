/**
 * `autoscale:*`: per process type min/max replicas and a CPU target (settings.autoscale).
 * @module
 */
import { UsageError } from '../cli-errors.ts';
import { getSettings, postSettings } from '../app-settings.ts';
import type { CommandSpec } from '../command-spec.ts';

function wholeNumber(values: Record<string, unknown>, name: string): number {
  const raw = values[name];
  if (typeof raw !== 'string') throw new UsageError(`--${name} is required`);
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, not '${raw}'`);
  return Number(raw);
}

export const autoscaleCommands: CommandSpec[] = [
  {
    name: 'autoscale:list',
    summary: 'Lists the autoscale rules of an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const rules = (await getSettings(session, app)).autoscale ?? {};
      if (ctx.json) return void ctx.emit(rules);
      ctx.say(`=== ${app} Autoscale`);
      const types = Object.keys(rules).sort();
      if (types.length === 0) ctx.say('No autoscale rules found.');
      for (const type of types) {
        const rule = rules[type]!;
        ctx.say(`\n--- ${type}:\nMin Replicas: ${rule.min}\nMax Replicas: ${rule.max}\nCPU: ${rule.cpu_percent}%`);
      }
    },
  },
  {
    name: 'autoscale:set',
    summary: 'Sets an autoscale rule for a process type of an application.',
    args: [{ name: 'type', required: true, description: "the process type, such as 'web'." }],
    options: {
      min: { type: 'string', valueName: '<min>', description: 'the minimum number of replicas.' },
      max: { type: 'string', valueName: '<max>', description: 'the maximum number of replicas.' },
      'cpu-percent': { type: 'string', valueName: '<percent>', description: "the CPU utilisation to aim for, in percent of the type's CPU request (limits:set --cpu), or of one core without one." },
    },
    app: true,
    async run(ctx, { values, positionals }) {
      const rule = { min: wholeNumber(values, 'min'), max: wholeNumber(values, 'max'), cpu_percent: wholeNumber(values, 'cpu-percent') };
      const { session, app } = await ctx.appSession(values);
      const type = positionals[0]!;
      await ctx.progress(`Applying autoscale settings for process type ${type} on ${app}... `, () => postSettings(session, app, { autoscale: { [type]: rule } }));
    },
  },
  {
    name: 'autoscale:unset',
    summary: 'Removes the autoscale rule of a process type of an application.',
    args: [{ name: 'type', required: true, description: "the process type, such as 'web'." }],
    app: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const type = positionals[0]!;
      await ctx.progress(`Removing autoscale for process type ${type} on ${app}... `, () => postSettings(session, app, { autoscale: { [type]: null } }));
    },
  },
];
