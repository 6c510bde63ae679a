import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { EdgeSandbox, edgeEngineClient, sameRun } from './edge-sandbox.ts';
import type { EdgeSandboxOptions } from './edge-sandbox.ts';

interface FakeContainer {
  Id: string;
  Name: string;
  Config: { Labels: Record<string, string> };
  State: { Running: boolean; Restarting: boolean; StartedAt: string };
  NetworkSettings: { SandboxKey: string; Networks: Record<string, { IPAddress: string }> };
  HostConfig: Record<string, unknown>;
}

/** Just the calls the sandbox makes, on containers kept in a map by name. */
function fakeEngine() {
  const containers = new Map<string, FakeContainer>();
  const calls: string[] = [];
  let next = 0;
  const notFound = () => Object.assign(new Error('no such container'), { statusCode: 404 });
  const find = (ref: string) => containers.get(ref) ?? [...containers.values()].find((c) => c.Id === ref);
  const start = (container: FakeContainer) => {
    next++;
    container.State = { Running: true, Restarting: false, StartedAt: `2026-01-01T00:00:0${next}Z` };
    container.NetworkSettings.SandboxKey = `/run/netns/sandbox-${next}`;
  };
  /** Containers that will not start again (their network was made anew since, say). */
  const unstartable = new Set<string>();
  const engine = {
    unstartable,
    containers,
    calls,
    getContainer(ref: string) {
      return {
        inspect: async () => {
          const container = find(ref);
          if (!container) throw notFound();
          return structuredClone(container);
        },
        start: async () => {
          calls.push(`start ${ref}`);
          const container = find(ref);
          if (!container) throw notFound();
          if (unstartable.has(container.Id)) throw Object.assign(new Error('network 1a2b3c not found'), { statusCode: 404 });
          start(container);
        },
        remove: async () => {
          calls.push(`remove ${ref}`);
          const container = find(ref);
          if (!container) throw notFound();
          containers.delete(container.Name);
        },
      };
    },
    async createContainer(spec: { name: string; Labels: Record<string, string>; HostConfig: Record<string, unknown>; NetworkingConfig: { EndpointsConfig: Record<string, unknown> } }) {
      calls.push(`create ${spec.name}`);
      if (containers.has(spec.name)) throw Object.assign(new Error('conflict'), { statusCode: 409 });
      const networks = Object.fromEntries(Object.keys(spec.NetworkingConfig.EndpointsConfig).map((name) => [name, { IPAddress: '100.125.20.9' }]));
      const container: FakeContainer = {
        Id: `id-${spec.name}-${calls.length}`,
        Name: spec.name,
        Config: { Labels: spec.Labels },
        State: { Running: false, Restarting: false, StartedAt: '0001-01-01T00:00:00Z' },
        NetworkSettings: { SandboxKey: '', Networks: networks },
        HostConfig: spec.HostConfig,
      };
      containers.set(spec.name, container);
      return engine.getContainer(spec.name);
    },
  };
  return engine;
}

const options: EdgeSandboxOptions = { engine: 'unix:///run/node2.sock', network: 'apps', name: 'deis-edge-router', platformName: 'deis', ports: [8080, 8443] };

function sandboxOn(engine: ReturnType<typeof fakeEngine>, overrides: Partial<EdgeSandboxOptions> = {}) {
  return new EdgeSandbox({ ...options, ...overrides }, engine as unknown as Docker);
}

describe('the edge sandbox', () => {
  it('is made on the overlay, publishing the router\'s ports, started, and its namespace handed back', async () => {
    const engine = fakeEngine();
    const run = await sandboxOn(engine, { hostAddress: '100.124.0.12' }).ensure();
    expect(engine.calls).toEqual(['create deis-edge-router', `start ${run.id}`]);
    expect(run).toMatchObject({ netns: '/run/netns/sandbox-1', address: '100.125.20.9' });
    const made = engine.containers.get('deis-edge-router')!;
    expect(made.Config.Labels['io.deis.platform']).toBe('deis');
    expect(made.HostConfig).toMatchObject({
      NetworkMode: 'apps',
      PortBindings: { '8080/tcp': [{ HostIp: '100.124.0.12', HostPort: '8080' }], '8443/tcp': [{ HostIp: '100.124.0.12', HostPort: '8443' }] },
      RestartPolicy: { Name: 'unless-stopped' },
      CapDrop: ['ALL'],
    });
  });

  it('adopts a running sandbox made for the same ports and network, and starts a stopped one', async () => {
    const engine = fakeEngine();
    const first = await sandboxOn(engine).ensure();
    engine.calls.length = 0;
    const again = await sandboxOn(engine).ensure();
    expect(engine.calls).toEqual([]);
    expect(sameRun(first, again)).toBe(true);

    engine.containers.get('deis-edge-router')!.State.Running = false;
    expect(await sandboxOn(engine).current()).toBeNull();
    const restarted = await sandboxOn(engine).ensure();
    expect(engine.calls).toEqual([`start ${first.id}`]);
    expect(restarted.id).toBe(first.id);
    // A new run of the same container: nginx of the old one must move.
    expect(sameRun(first, restarted)).toBe(false);
  });

  it('makes a stopped sandbox anew when it will not start again', async () => {
    const engine = fakeEngine();
    const first = await sandboxOn(engine).ensure();
    engine.containers.get('deis-edge-router')!.State.Running = false;
    engine.unstartable.add(first.id);
    engine.calls.length = 0;
    const again = await sandboxOn(engine).ensure();
    expect(again.id).not.toBe(first.id);
    expect(engine.calls).toEqual([`start ${first.id}`, 'remove deis-edge-router', 'create deis-edge-router', `start ${again.id}`]);
    // One that will not start even when new: the error says why.
    engine.containers.get('deis-edge-router')!.State.Running = false;
    engine.unstartable.add(again.id);
    const originalCreate = engine.createContainer.bind(engine);
    engine.createContainer = async (spec) => {
      const made = await originalCreate(spec);
      engine.unstartable.add(engine.containers.get(spec.name)!.Id);
      return made;
    };
    await expect(sandboxOn(engine).ensure()).rejects.toThrow(/the edge sandbox deis-edge-router would not start: network 1a2b3c not found/);
  });

  it('makes the sandbox anew when it was made for other ports or another network', async () => {
    const engine = fakeEngine();
    const first = await sandboxOn(engine).ensure();
    engine.calls.length = 0;
    const moved = await sandboxOn(engine, { ports: [9080, 9443] }).ensure();
    expect(engine.calls).toEqual(['remove deis-edge-router', 'create deis-edge-router', `start ${moved.id}`]);
    expect(moved.id).not.toBe(first.id);
    expect(engine.containers.get('deis-edge-router')!.HostConfig.PortBindings).toHaveProperty('9080/tcp');
    // The same options in another order are the same sandbox.
    engine.calls.length = 0;
    await sandboxOn(engine, { ports: [9443, 9080] }).ensure();
    expect(engine.calls).toEqual([]);
  });

  it('leaves a container of that name alone when it is not the platform\'s', async () => {
    const engine = fakeEngine();
    await sandboxOn(engine, { platformName: 'someone-else' }).ensure();
    engine.calls.length = 0;
    await expect(sandboxOn(engine).ensure()).rejects.toThrow(/is not platform deis's/);
    expect(await sandboxOn(engine).current()).toBeNull();
    expect(engine.calls).toEqual([]);
  });

  it('says which engine did not answer', async () => {
    const sandbox = new EdgeSandbox({ ...options, engine: 'unix:///nonexistent/docker.sock' });
    await expect(sandbox.current()).rejects.toThrow(/the edge engine unix:\/\/\/nonexistent\/docker\.sock did not answer/);
  });

  it('reaches an engine by a unix socket or tcp', () => {
    const modem = (endpoint: string) => edgeEngineClient(endpoint).modem as unknown as { socketPath?: string; host?: string; port?: number };
    expect(modem('unix:///run/deis-cluster/node2.sock').socketPath).toBe('/run/deis-cluster/node2.sock');
    expect(modem('/run/x.sock').socketPath).toBe('/run/x.sock');
    expect(modem('tcp://100.124.0.12:2375')).toMatchObject({ host: '100.124.0.12', port: 2375 });
  });
});
