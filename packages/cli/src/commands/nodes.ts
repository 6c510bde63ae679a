/**
 * `nodes:list` (`deis nodes`): the machines the platform runs containers on, for administrators. An extension: Deis
 * v2 left nodes to Kubernetes; here the scheduler reports them (one host, or a swarm's nodes).
 * @module
 */
import type { PlatformNode } from '@deis/sdk/types';
import { limitCount } from '../command-context.ts';
import { stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { limitOption } from '../list-command.ts';

const HEADER = ['Hostname', 'Role', 'State', 'Availability', 'Address', 'Containers', 'Labels'];

function row(node: PlatformNode): string[] {
  const labels = Object.entries(node.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return [node.hostname || node.id, node.role, node.state, node.availability, node.address ?? '-', String(node.containers), labels];
}

export const nodeCommands: CommandSpec[] = [
  {
    name: 'nodes:list',
    summary: 'Lists the nodes the platform runs containers on, with their labels (administrators only).',
    json: true,
    options: { ...limitOption },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const page = await ctx.list<PlatformNode>(session, '/v2/nodes/', stringOption(values, 'limit'));
      if (ctx.json) return void ctx.emit(page.results);
      ctx.say(`=== Nodes${limitCount(page.results.length, page.count)}`);
      const rows = [HEADER, ...page.results.map(row)];
      const widths = HEADER.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
      for (const cells of rows) ctx.say(cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
    },
  },
];
