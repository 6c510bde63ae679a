import { describe, expect, it } from 'vitest';
import { LOCAL_ENGINE, loadEngineSettings } from './engine-settings.ts';

function problem(env: Record<string, string>): string {
  try {
    loadEngineSettings(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadEngineSettings', () => {
  it('defaults to the docker backend and the local engine for everything', () => {
    expect(loadEngineSettings({})).toEqual({ scheduler: 'docker', swarmEngines: [LOCAL_ENGINE], builderEngine: LOCAL_ENGINE });
    expect(loadEngineSettings({ DEIS_SCHEDULER: 'docker', DEIS_SWARM_ENGINES: '', DEIS_BUILDER_ENGINE: '' }).scheduler).toBe('docker');
  });

  it('chooses the swarm backend with its engines, the manager first, and builds on the manager by default', () => {
    const settings = loadEngineSettings({ DEIS_SCHEDULER: 'swarm', DEIS_SWARM_ENGINES: 'unix:///run/m.sock, tcp://10.0.0.6:2375,tcp://node-3.example:2376' });
    expect(settings).toEqual({
      scheduler: 'swarm',
      swarmEngines: ['unix:///run/m.sock', 'tcp://10.0.0.6:2375', 'tcp://node-3.example:2376'],
      builderEngine: 'unix:///run/m.sock',
    });
    expect(loadEngineSettings({ DEIS_SCHEDULER: 'swarm' }).swarmEngines).toEqual([LOCAL_ENGINE]);
  });

  it('takes the builder engine from DEIS_BUILDER_ENGINE over any default', () => {
    expect(loadEngineSettings({ DEIS_BUILDER_ENGINE: 'tcp://10.0.0.5:2375' }).builderEngine).toBe('tcp://10.0.0.5:2375');
    expect(loadEngineSettings({ DEIS_SCHEDULER: 'swarm', DEIS_SWARM_ENGINES: 'unix:///run/a.sock', DEIS_BUILDER_ENGINE: 'unix:///run/b.sock' }).builderEngine).toBe('unix:///run/b.sock');
  });

  it('refuses an unknown backend, naming the two there are', () => {
    expect(problem({ DEIS_SCHEDULER: 'kubernetes' })).toContain('DEIS_SCHEDULER must be docker (this host\'s engine) or swarm (a Docker Swarm), not "kubernetes"');
    expect(problem({ DEIS_SCHEDULER: 'Swarm' })).toContain('not "Swarm"');
  });

  it.each([
    ['/var/run/docker.sock', 'an engine is unix:///path/to/socket or tcp://host:port'],
    ['unix://docker.sock', 'a unix socket needs an absolute path'],
    ['unix://', 'a unix socket needs an absolute path'],
    ['tcp://10.0.0.5', 'a TCP engine needs a host and a port'],
    ['tcp://:2375', 'not a URL'],
    ['tcp://10.0.0.5:2375/v1.41', 'a TCP engine is a host and a port, with no path'],
    ['tcp://user@10.0.0.5:2375', 'a TCP engine is a host and a port, nothing else'],
    ['https://10.0.0.5:2376', 'an engine is unix:///path/to/socket or tcp://host:port'],
  ])('refuses the engine %s', (endpoint, reason) => {
    expect(problem({ DEIS_SCHEDULER: 'swarm', DEIS_SWARM_ENGINES: `unix:///run/m.sock,${endpoint}` })).toContain(`DEIS_SWARM_ENGINES: "${endpoint}": ${reason}`);
    expect(problem({ DEIS_BUILDER_ENGINE: endpoint })).toContain(`DEIS_BUILDER_ENGINE: "${endpoint}": ${reason}`);
  });

  it('refuses an empty entry and an engine named twice', () => {
    expect(problem({ DEIS_SCHEDULER: 'swarm', DEIS_SWARM_ENGINES: 'unix:///run/a.sock,,unix:///run/b.sock' })).toContain('with no empty entry');
    expect(problem({ DEIS_SCHEDULER: 'swarm', DEIS_SWARM_ENGINES: 'unix:///run/a.sock,unix:///run/a.sock' })).toContain('names the engine unix:///run/a.sock more than once');
  });

  it('refuses swarm engines without the swarm backend, which would otherwise leave every container on this host', () => {
    expect(problem({ DEIS_SWARM_ENGINES: 'unix:///run/a.sock' })).toContain('DEIS_SWARM_ENGINES is set but DEIS_SCHEDULER is not swarm');
  });

  it('names every bad setting at once', () => {
    const message = problem({ DEIS_SCHEDULER: 'k8s', DEIS_SWARM_ENGINES: 'nowhere', DEIS_BUILDER_ENGINE: 'tcp://x' });
    expect(message).toMatch(/^invalid engine settings:/);
    expect(message).toContain('DEIS_SCHEDULER must be');
    expect(message).toContain('DEIS_SWARM_ENGINES: "nowhere"');
    expect(message).toContain('DEIS_BUILDER_ENGINE: "tcp://x"');
  });
});
