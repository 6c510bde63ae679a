/**
 * `releases:*`: an app's numbered releases; info on one; rollback (which makes a new release).
 * @module
 */
import type { Page, Release } from '@deis/sdk/types';
import { UsageError } from '../cli-errors.ts';
import type { CommandSpec } from '../command-spec.ts';
import { appListCommand } from '../list-command.ts';

function version(raw: string): number {
  const match = /^v?(\d+)$/.exec(raw);
  if (!match) throw new UsageError(`'${raw}' is not a release version, e.g. v2`);
  return Number(match[1]);
}

export const releaseCommands: CommandSpec[] = [
  appListCommand<Release>({
    name: 'releases:list',
    summary: 'Lists release history for an application.',
    collection: 'releases',
    heading: 'Releases',
    line: (release) => `v${release.version}\t${release.created}\t${release.summary}`,
  }),
  {
    name: 'releases:info',
    summary: 'Prints information about a particular release.',
    args: [{ name: 'version', required: true, description: 'the release of the application, such as v1.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const n = version(positionals[0]!);
      const { session, app } = await ctx.appSession(values);
      const { data: release } = await session.client.request<Release>('GET', `/v2/apps/${app}/releases/v${n}/`);
      if (ctx.json) return void ctx.emit(release);
      ctx.say(`=== ${app} Release v${n}`);
      if (release.build) ctx.say(`build:   ${release.build}`);
      ctx.say(`config:  ${release.config}`);
      ctx.say(`owner:   ${release.owner}`);
      ctx.say(`created: ${release.created}`);
      ctx.say(`summary: ${release.summary}`);
      ctx.say(`updated: ${release.updated}`);
      ctx.say(`uuid:    ${release.uuid}`);
    },
  },
  {
    name: 'releases:rollback',
    summary: 'Rolls back to a previous application release.',
    details: 'Makes a new release with the build and config of the given one (by default, the release before the current one).',
    args: [{ name: 'version', description: 'the release of the application, such as v1.' }],
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const wanted = positionals[0] === undefined ? undefined : version(positionals[0]);
      const { session, app } = await ctx.appSession(values);
      let target = wanted;
      if (target === undefined) {
        const { data } = await session.client.request<Page<Release>>('GET', `/v2/apps/${app}/releases/`, { query: { limit: 1 } });
        target = Math.max(0, (data.results[0]?.version ?? 1) - 1);
      }
      const result = await ctx.progress(
        `Rolling back to v${target}... `,
        async () => (await session.client.request<{ version: number }>('POST', `/v2/apps/${app}/releases/rollback/`, { body: wanted === undefined ? {} : { version: wanted } })).data,
        (data) => `done, v${data.version}`,
      );
      if (ctx.json) ctx.emit(result);
    },
  },
];
