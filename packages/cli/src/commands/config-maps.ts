/**
 * `tags:*`, `registry:*` and `limits:*`: the key/value maps of an app's config other than its values.
 * @module
 */
import type { Config } from '@deis/sdk/types';
import { getConfig, postConfig } from '../app-config.ts';
import { UsageError } from '../cli-errors.ts';
import type { CommandContext, Session } from '../command-context.ts';
import { flagOption } from '../command-spec.ts';
import type { CommandSpec, OptionValues } from '../command-spec.ts';
import { alignedPairs, parseKeyValues } from '../key-value-args.ts';

function printMap(ctx: CommandContext, header: string, map: Record<string, string>): void {
  ctx.say(header);
  for (const line of alignedPairs(map ?? {})) ctx.say(line);
}

interface MapTopic {
  topic: 'tags' | 'registry';
  field: 'tags' | 'registry';
  title: string;
  noun: string;
  example: string;
  applying: string;
  removing: string;
  /** What `:set` does with the pairs on this platform, for its help. */
  setDetails: string;
}

const mapTopics: MapTopic[] = [
  {
    topic: 'tags',
    field: 'tags',
    title: 'Tags',
    noun: 'tags',
    example: 'environ=prod',
    applying: 'Applying tags... ',
    removing: 'Applying tags... ',
    setDetails: [
      'Tags say which nodes the app may run on; every tag must match a label of one node, or nothing changes.',
      'On a Docker Swarm (DEIS_SCHEDULER=swarm) the app\'s containers run only on nodes with all of its tags as labels',
      '(`deis nodes` lists them). On one host, that host is the one node, labelled by its DEIS_NODE_LABELS setting.',
    ].join('\n'),
  },
  {
    topic: 'registry',
    field: 'registry',
    title: 'Registry',
    noun: 'private registry settings',
    example: 'username=bob',
    applying: 'Applying registry information... ',
    removing: 'Applying registry information... ',
    setDetails: [
      '`deis pull` of an image the platform lacks logs in to its registry with username and password, e.g.',
      '  deis registry:set username=bob password=s3cret',
      'The platform reaches only registries on its own host (localhost, 127.x.x.x). As in Deis, PORT must be set in',
      'the config first.',
    ].join('\n'),
  },
];

function mapCommands(topic: MapTopic): CommandSpec[] {
  const show = async (ctx: CommandContext, session: Session, app: string, config?: Config) => {
    const current = config ?? (await getConfig(session, app));
    if (ctx.json) return void ctx.emit(current[topic.field] ?? {});
    printMap(ctx, `=== ${app} ${topic.title}`, current[topic.field]);
  };
  return [
    {
      name: `${topic.topic}:list`,
      summary: `Lists the ${topic.noun} of an application.`,
      app: true,
      json: true,
      async run(ctx, { values }) {
        const { session, app } = await ctx.appSession(values);
        await show(ctx, session, app);
      },
    },
    {
      name: `${topic.topic}:set`,
      summary: `Sets ${topic.noun} of an application.`,
      details: topic.setDetails,
      args: [{ name: 'key=value', required: true, variadic: true, description: `the key and its value, e.g. ${topic.example}.` }],
      app: true,
      json: true,
      async run(ctx, { values, positionals }) {
        const pairs = parseKeyValues(positionals, undefined, topic.example);
        const { session, app } = await ctx.appSession(values);
        const config = await ctx.progress(topic.applying, () => postConfig(session, app, { [topic.field]: pairs }), () => 'done\n');
        await show(ctx, session, app, config);
      },
    },
    {
      name: `${topic.topic}:unset`,
      summary: `Unsets ${topic.noun} of an application.`,
      args: [{ name: 'key', required: true, variadic: true, description: 'the key to remove.' }],
      app: true,
      json: true,
      async run(ctx, { values, positionals }) {
        const { session, app } = await ctx.appSession(values);
        const config = await ctx.progress(topic.removing, () => postConfig(session, app, { [topic.field]: Object.fromEntries(positionals.map((key) => [key, null])) }), () => 'done\n');
        await show(ctx, session, app, config);
      },
    },
  ];
}

/** Both kinds of limit: as one object under --json, else printed. */
function showLimits(ctx: CommandContext, app: string, config: Config): void {
  if (ctx.json) return void ctx.emit({ memory: config.memory ?? {}, cpu: config.cpu ?? {} });
  ctx.say(`=== ${app} Limits\n`);
  for (const [title, map] of [['Memory', config.memory ?? {}], ['CPU', config.cpu ?? {}]] as const) {
    ctx.say(`--- ${title}`);
    const lines = alignedPairs(map);
    if (lines.length === 0) ctx.say('Unlimited');
    for (const line of lines) ctx.say(line);
    if (title === 'Memory') ctx.say();
  }
}

function limitKind(values: OptionValues): 'memory' | 'cpu' {
  if (flagOption(values, 'cpu') && flagOption(values, 'memory')) throw new UsageError('give only one of --cpu and --memory');
  return flagOption(values, 'cpu') ? 'cpu' : 'memory';
}

const limitKindOptions = {
  cpu: { type: 'boolean', short: 'c', description: 'limits cpu shares (e.g. web=500m).' },
  memory: { type: 'boolean', short: 'm', description: 'limits memory; the default (e.g. web=64M).' },
} as const;

export const configMapCommands: CommandSpec[] = [
  ...mapTopics.flatMap(mapCommands),
  {
    name: 'limits:list',
    summary: 'Lists resource limits for an application.',
    app: true,
    json: true,
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const config = await getConfig(session, app);
      showLimits(ctx, app, config);
    },
  },
  {
    name: 'limits:set',
    summary: 'Sets resource limits for an application.',
    details: "A value is a limit ('web=64M', 'web=500m') or a request/limit pair ('web=32M/64M').",
    args: [{ name: 'type=value', required: true, variadic: true, description: 'the process type and its limit, e.g. web=64M or worker=500m.' }],
    options: { ...limitKindOptions },
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const kind = limitKind(values);
      const pairs = parseKeyValues(positionals, /^([a-z0-9]+(?:-[a-z0-9]+)*)=(\S+)$/, kind === 'cpu' ? 'web=500m' : 'web=64M');
      const { session, app } = await ctx.appSession(values);
      const config = await ctx.progress('Applying limits... ', () => postConfig(session, app, { [kind]: pairs }), () => 'done\n');
      showLimits(ctx, app, config);
    },
  },
  {
    name: 'limits:unset',
    summary: 'Unsets resource limits for an application.',
    args: [{ name: 'type', required: true, variadic: true, description: "the process type, such as 'web'." }],
    options: { ...limitKindOptions },
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const kind = limitKind(values);
      const { session, app } = await ctx.appSession(values);
      const config = await ctx.progress('Applying limits... ', () => postConfig(session, app, { [kind]: Object.fromEntries(positionals.map((type) => [type, null])) }), () => 'done\n');
      showLimits(ctx, app, config);
    },
  },
];
