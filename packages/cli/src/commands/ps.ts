/**
 * `ps:*`: list the app's containers by process type, scale, restart.
 * @module
 */
import type { Pod } from '@deis/sdk/types';
import { UsageError } from '../cli-errors.ts';
import type { CommandContext } from '../command-context.ts';
import { stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { limitOption } from '../list-command.ts';

export function printProcesses(ctx: CommandContext, app: string, pods: Pod[]): void {
  const byType = new Map<string, Pod[]>();
  for (const pod of pods) byType.set(pod.type, [...(byType.get(pod.type) ?? []), pod]);
  ctx.say(`=== ${app} Processes`);
  for (const type of [...byType.keys()].sort()) {
    ctx.say(`--- ${type}:`);
    // Deis's line, then the restart count our controller adds once a container has been restarted.
    for (const pod of byType.get(type)!) ctx.say(`${pod.name} ${pod.state} (${pod.release})${pod.restarts ? ` (restarts ${pod.restarts})` : ''}`);
  }
}

function drink(env: NodeJS.ProcessEnv): string {
  return env.DEIS_DRINK_OF_CHOICE || 'coffee';
}

/** `web`, a full pod name `<app>-web-123456789-abcde`, or the short `web-123456789-abcde` → [type, pod name]. */
export function parseRestartTarget(target: string, app: string): { type: string; name: string | null } {
  if (!target.includes('-')) return { type: target, name: null };
  const short = target.startsWith(`${app}-`) ? target.slice(app.length + 1) : target;
  const parts = short.split('-');
  const type = /[0-9]{8,10}-[a-z0-9]{5}$/.test(short) ? parts[0]! : (parts[1] ?? parts[0]!);
  return { type, name: target.startsWith(`${app}-`) ? target : `${app}-${short}` };
}

export const psCommands: CommandSpec[] = [
  {
    name: 'ps:list',
    summary: "Lists the application's processes.",
    app: true,
    options: { ...limitOption },
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const page = await ctx.list<Pod>(session, `/v2/apps/${app}/pods/`, stringOption(values, 'limit'));
      if (ctx.json) return void ctx.emit(page.results);
      printProcesses(ctx, app, page.results);
    },
  },
  {
    name: 'ps:scale',
    summary: 'Scales an application\'s processes by type.',
    args: [{ name: 'type=num', required: true, variadic: true, description: "the process name as defined in your Procfile, such as 'web' or 'worker', and the number of processes, e.g. web=2." }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const targets: Record<string, number> = {};
      for (const target of positionals) {
        const match = /^([a-z0-9]+(?:-[a-z0-9]+)*)=([0-9]+)$/.exec(target);
        if (!match) throw new UsageError(`'${target}' does not match the pattern 'type=num', ex: web=2`);
        targets[match[1]!] = Number(match[2]);
      }
      const { session, app } = await ctx.appSession(values);
      ctx.say(`Scaling processes... but first, ${drink(ctx.io.env)}!`);
      const started = Date.now();
      await ctx.progress('', () => session.client.request('POST', `/v2/apps/${app}/scale/`, { body: targets }), () => `done in ${Math.floor((Date.now() - started) / 1000)}s`);
      const page = await ctx.list<Pod>(session, `/v2/apps/${app}/pods/`);
      if (ctx.json) return void ctx.emit(page.results);
      printProcesses(ctx, app, page.results);
    },
  },
  {
    name: 'ps:restart',
    summary: "Restarts an application's processes: all of them, one type, or one process.",
    args: [{ name: 'type|name', description: "the process type (e.g. 'web') or the name of one process (e.g. 'myapp-web-123456789-abcde')." }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const { session, app } = await ctx.appSession(values);
      const target = positionals[0] ? parseRestartTarget(positionals[0], app) : null;
      const path = target ? (target.name ? `/v2/apps/${app}/pods/${target.type}/${target.name}/restart/` : `/v2/apps/${app}/pods/${target.type}/restart/`) : `/v2/apps/${app}/pods/restart/`;
      ctx.say(`Restarting processes... but first, ${drink(ctx.io.env)}!`);
      const started = Date.now();
      const { data } = await ctx.progress('', () => session.client.request<Pod[]>('POST', path), () => `done in ${Math.floor((Date.now() - started) / 1000)}s`);
      const pods = Array.isArray(data) ? data : [];
      if (ctx.json) return void ctx.emit(pods);
      if (pods.length === 0) ctx.say('Could not find any processes to restart');
      else printProcesses(ctx, app, pods);
    },
  },
];
