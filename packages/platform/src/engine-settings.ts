/**
 * Which Docker engines the platform drives: the scheduler backend (DEIS_SCHEDULER, `docker` on this host or `swarm`
 * across a Docker Swarm, ADR 0018), the swarm's nodes' engines (DEIS_SWARM_ENGINES) and the engine the builder builds
 * on (DEIS_BUILDER_ENGINE). Kept apart from the ports and secrets of platform-settings.ts and role-settings.ts because
 * only the controller (the scheduler) and the builder read them.
 * @module
 */

export type SchedulerKind = 'docker' | 'swarm';

/** The local engine's socket: the default of every engine setting. */
export const LOCAL_ENGINE = 'unix:///var/run/docker.sock';

export interface EngineSettings {
  /** The scheduler backend (DEIS_SCHEDULER); `docker` unless set. */
  scheduler: SchedulerKind;
  /**
   * swarm: the engines of the swarm's nodes, the manager's first (DEIS_SWARM_ENGINES), each `unix:///path` or
   * `tcp://host:port`; the local socket alone unless set. Unused by the docker backend.
   */
  swarmEngines: string[];
  /**
   * The engine the builder builds images on (DEIS_BUILDER_ENGINE); unless set, the swarm manager's (the first of
   * DEIS_SWARM_ENGINES) when DEIS_SCHEDULER is swarm, else the local socket.
   */
  builderEngine: string;
}

/**
 * An engine endpoint as the scheduler's `engineClient` takes it, or a reason it is not one. Only the two forms a
 * dockerode client can be built from without TLS settings: a unix socket path and plain TCP to a host and port.
 */
function engineProblem(endpoint: string): string | null {
  if (endpoint.startsWith('unix://')) {
    const path = endpoint.slice('unix://'.length);
    return path.startsWith('/') && path.length > 1 ? null : 'a unix socket needs an absolute path, like unix:///var/run/docker.sock';
  }
  if (endpoint.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return 'not a URL';
    }
    if (url.hostname === '' || url.port === '') return 'a TCP engine needs a host and a port, like tcp://10.0.0.5:2375';
    if (url.pathname !== '' && url.pathname !== '/') return 'a TCP engine is a host and a port, with no path';
    if (url.username !== '' || url.search !== '' || url.hash !== '') return 'a TCP engine is a host and a port, nothing else';
    return null;
  }
  return 'an engine is unix:///path/to/socket or tcp://host:port';
}

function engine(env: Record<string, string | undefined>, name: string, fallback: string, problems: string[]): string {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return fallback;
  const problem = engineProblem(raw);
  if (problem) problems.push(`${name}: "${raw}": ${problem}`);
  return raw;
}

function engines(env: Record<string, string | undefined>, name: string, problems: string[]): string[] {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return [LOCAL_ENGINE];
  const list = raw.split(',').map((entry) => entry.trim());
  if (list.some((entry) => entry === '')) {
    problems.push(`${name} must be the engines of the swarm's nodes separated by commas (the manager's first), with no empty entry, not "${raw}"`);
    return list.filter((entry) => entry !== '');
  }
  for (const entry of list) {
    const problem = engineProblem(entry);
    if (problem) problems.push(`${name}: "${entry}": ${problem}`);
  }
  const repeated = list.filter((entry, index) => list.indexOf(entry) !== index);
  if (repeated.length > 0) problems.push(`${name} names the engine ${repeated[0]} more than once`);
  return list;
}

export function loadEngineSettings(env: Record<string, string | undefined> = process.env): Readonly<EngineSettings> {
  const problems: string[] = [];
  const rawScheduler = (env.DEIS_SCHEDULER ?? '').trim();
  let scheduler: SchedulerKind = 'docker';
  if (rawScheduler === 'swarm') scheduler = 'swarm';
  else if (rawScheduler !== '' && rawScheduler !== 'docker') problems.push(`DEIS_SCHEDULER must be docker (this host's engine) or swarm (a Docker Swarm), not "${rawScheduler}"`);
  const swarmEngines = engines(env, 'DEIS_SWARM_ENGINES', problems);
  if (scheduler !== 'swarm' && (env.DEIS_SWARM_ENGINES ?? '').trim() !== '') {
    // A forgotten DEIS_SCHEDULER would otherwise leave every container on this host, silently.
    problems.push('DEIS_SWARM_ENGINES is set but DEIS_SCHEDULER is not swarm: set DEIS_SCHEDULER=swarm, or unset DEIS_SWARM_ENGINES');
  }
  // Without a registry the swarm scheduler copies images from the manager to the nodes, so builds belong there.
  const builderEngine = engine(env, 'DEIS_BUILDER_ENGINE', scheduler === 'swarm' ? (swarmEngines[0] ?? LOCAL_ENGINE) : LOCAL_ENGINE, problems);
  const settings: EngineSettings = { scheduler, swarmEngines, builderEngine };
  if (problems.length > 0) throw new Error(`invalid engine settings:\n  ${problems.join('\n  ')}`);
  return Object.freeze(settings);
}
