/**
 * `healthchecks:*`: liveness and readiness probes per process type (config.healthcheck), in the Kubernetes probe shape.
 * @module
 */
import type { Healthcheck, Probe } from '@deis/sdk/types';
import { getConfig, postConfig } from '../app-config.ts';
import { UsageError } from '../cli-errors.ts';
import type { CommandContext } from '../command-context.ts';
import { stringOption } from '../command-spec.ts';
import type { CommandSpec, OptionValues } from '../command-spec.ts';

/** The key the Deis CLI uses when no --type is given: it applies to both web and cmd processes. */
const DEFAULT_TYPE = 'web/cmd';
const PROBE_KEYS = { liveness: 'livenessProbe', readiness: 'readinessProbe' } as const;

function integer(values: OptionValues, name: string, fallback: number): number {
  const raw = values[name];
  if (typeof raw !== 'string') return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, not '${raw}'`);
  return Number(raw);
}

function port(raw: string | undefined): number {
  if (!raw || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) throw new UsageError(`<port> must be a number from 1 to 65535, not '${raw ?? ''}'`);
  return Number(raw);
}

export function buildProbe(probeType: string, args: string[], values: OptionValues): Probe {
  const probe: Probe = {
    initialDelaySeconds: integer(values, 'initial-delay-timeout', 50),
    timeoutSeconds: integer(values, 'timeout-seconds', 50),
    periodSeconds: integer(values, 'period-seconds', 10),
    successThreshold: integer(values, 'success-threshold', 1),
    failureThreshold: integer(values, 'failure-threshold', 3),
  };
  if (probeType === 'httpGet') {
    const headers = ((values.headers as string[] | undefined) ?? []).map((header) => {
      const at = header.indexOf(':');
      if (at < 1) throw new UsageError(`--headers must look like 'Name:value', not '${header}'`);
      return { name: header.slice(0, at).trim(), value: header.slice(at + 1).trim() };
    });
    probe.httpGet = { path: stringOption(values, 'path') ?? '/', port: port(args[0]), httpHeaders: headers };
  } else if (probeType === 'tcpSocket') {
    probe.tcpSocket = { port: port(args[0]) };
  } else if (probeType === 'exec') {
    if (args.length === 0) throw new UsageError('an exec probe needs a command, e.g. healthchecks:set liveness exec -- /bin/true');
    probe.exec = { command: args };
  } else {
    throw new UsageError(`<probe-type> must be httpGet, tcpSocket or exec, not '${probeType}'`);
  }
  return probe;
}

export function describeProbe(probe: Probe): string {
  const timing = `Initial Delay=${probe.initialDelaySeconds ?? 0}s Timeout=${probe.timeoutSeconds ?? 1}s Period=${probe.periodSeconds ?? 10}s #Success=${probe.successThreshold ?? 1} #Failure=${probe.failureThreshold ?? 3}`;
  if (probe.httpGet) {
    const headers = (probe.httpGet.httpHeaders ?? []).map((header) => `${header.name}=${header.value}`).join(' ');
    return `HTTP GET Probe: Path="${probe.httpGet.path ?? '/'}" Port=${probe.httpGet.port ?? 0} HTTPHeaders=[${headers}] ${timing}`;
  }
  if (probe.tcpSocket) return `TCP Socket Probe: Port=${probe.tcpSocket.port} ${timing}`;
  if (probe.exec) return `Exec Probe: Command=[${probe.exec.command.join(' ')}] ${timing}`;
  return `Probe: ${timing}`;
}

function printHealthchecks(ctx: CommandContext, app: string, healthchecks: Record<string, Healthcheck>, onlyType?: string): void {
  ctx.say(`=== ${app} Healthchecks`);
  const types = Object.keys(healthchecks).filter((type) => !onlyType || type === onlyType).sort();
  if (types.length === 0) ctx.say('No healthchecks configured.');
  for (const type of types) {
    const check = healthchecks[type]!;
    ctx.say(`\n${type}:`);
    ctx.say('--- Liveness');
    ctx.say(check.livenessProbe ? describeProbe(check.livenessProbe) : 'No liveness probe configured.');
    ctx.say('\n--- Readiness');
    ctx.say(check.readinessProbe ? describeProbe(check.readinessProbe) : 'No readiness probe configured.');
  }
}

const typeOption = { type: { type: 'string', valueName: '<procType>', description: 'the process type the healthcheck applies to. [default: web/cmd]' } } as const;

export const healthcheckCommands: CommandSpec[] = [
  {
    name: 'healthchecks:list',
    summary: 'Lists the healthchecks of an application.',
    app: true,
    json: true,
    options: { ...typeOption },
    async run(ctx, { values }) {
      const { session, app } = await ctx.appSession(values);
      const healthchecks = (await getConfig(session, app)).healthcheck ?? {};
      if (ctx.json) return void ctx.emit(healthchecks);
      printHealthchecks(ctx, app, healthchecks, stringOption(values, 'type'));
    },
  },
  {
    name: 'healthchecks:set',
    summary: 'Sets a healthcheck for an application.',
    details: [
      'Probe types and their arguments:',
      '  httpGet <port>       GET --path on <port>; success is a 2xx or 3xx answer',
      '  tcpSocket <port>     a TCP connection to <port> opens',
      '  exec [--] <cmd>...   the command exits 0 inside the container',
      '',
      'What the options do (Kubernetes\' probes, checked for the container\'s whole life):',
      '  liveness    checked every --period-seconds, not within --initial-delay-timeout of the start, each check',
      '              given --timeout-seconds; after --failure-threshold failures in a row the container leaves the',
      '              router and is replaced. --success-threshold must be 1.',
      '  readiness   a deploy\'s new container takes traffic once it passes (within DEIS_DEPLOY_TIMEOUT); afterwards',
      '              checked every --period-seconds: after --failure-threshold failures in a row the container gets',
      '              no traffic until it passes --success-threshold times in a row.',
      '',
      'Examples:',
      '  deis healthchecks:set liveness httpGet 5000 --path=/healthz',
      '  deis healthchecks:set readiness exec -- /bin/cat /tmp/ready',
    ].join('\n'),
    args: [
      { name: 'health-type', required: true, description: "'liveness' (replace a container that keeps failing) or 'readiness' (a container gets no traffic while it fails)." },
      { name: 'probe-type', required: true, description: "'httpGet', 'tcpSocket' or 'exec'." },
      { name: 'args', variadic: true, description: 'the port (httpGet, tcpSocket) or the command (exec).' },
    ],
    options: {
      ...typeOption,
      path: { type: 'string', valueName: '<path>', default: '/', description: 'the path for an httpGet probe. [default: /]' },
      headers: { type: 'string', multiple: true, valueName: '<Name:value>', description: 'an HTTP header sent by an httpGet probe; may be repeated.' },
      'initial-delay-timeout': { type: 'string', valueName: '<seconds>', default: '50', description: 'seconds after the container starts before the first probe. [default: 50]' },
      'timeout-seconds': { type: 'string', valueName: '<seconds>', default: '50', description: 'seconds before a probe times out. [default: 50]' },
      'period-seconds': { type: 'string', valueName: '<seconds>', default: '10', description: 'seconds between probes. [default: 10]' },
      'success-threshold': { type: 'string', valueName: '<n>', default: '1', description: 'successes in a row that count as healthy. [default: 1]' },
      'failure-threshold': { type: 'string', valueName: '<n>', default: '3', description: 'failures in a row that count as unhealthy. [default: 3]' },
    },
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const [healthType, probeType, ...args] = positionals;
      const probeKey = PROBE_KEYS[healthType as keyof typeof PROBE_KEYS];
      if (!probeKey) throw new UsageError(`<health-type> must be liveness or readiness, not '${healthType}'`);
      const probe = buildProbe(probeType!, args, values);
      const { session, app } = await ctx.appSession(values);
      const type = stringOption(values, 'type') ?? DEFAULT_TYPE;
      // The controller merges probes per process type, so only the one being set is sent.
      const config = await ctx.progress(`Applying ${probeKey} healthcheck... `, () => postConfig(session, app, { healthcheck: { [type]: { [probeKey]: probe } } }), () => 'done\n');
      if (ctx.json) return void ctx.emit(config.healthcheck ?? {});
      printHealthchecks(ctx, app, config.healthcheck ?? {});
    },
  },
  {
    name: 'healthchecks:unset',
    summary: 'Removes healthchecks from an application.',
    args: [{ name: 'health-type', required: true, variadic: true, description: "'liveness' and/or 'readiness'." }],
    options: { ...typeOption },
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const keys = positionals.map((healthType) => {
        const key = PROBE_KEYS[healthType as keyof typeof PROBE_KEYS];
        if (!key) throw new UsageError(`<health-type> must be liveness or readiness, not '${healthType}'`);
        return key;
      });
      const { session, app } = await ctx.appSession(values);
      const type = stringOption(values, 'type') ?? DEFAULT_TYPE;
      // A null probe removes that probe of the process type and leaves the other one.
      const change = Object.fromEntries(keys.map((key) => [key, null]));
      const config = await ctx.progress('Removing healthchecks... ', () => postConfig(session, app, { healthcheck: { [type]: change } }), () => 'done\n');
      if (ctx.json) return void ctx.emit(config.healthcheck ?? {});
      printHealthchecks(ctx, app, config.healthcheck ?? {});
    },
  },
];
