import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlatformSettings } from './platform-settings.ts';
import { loadRoleSettings } from './role-settings.ts';

describe('loadRoleSettings', () => {
  let dataDir: string;
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const platform = (env: Record<string, string> = {}) => {
    dataDir = mkdtempSync(join(tmpdir(), 'role-settings-'));
    return loadPlatformSettings({ DEIS_DATA_DIR: dataDir, DEIS_CONTROLLER_PORT: '8100', DEIS_BUILDER_HTTP_PORT: '8101', ...env }, '/');
  };

  it('falls back to the one-host layout: the controller on loopback, the secrets of the data directory', () => {
    const settings = loadRoleSettings(platform(), {});
    expect(settings).toMatchObject({
      controllerUrl: 'http://127.0.0.1:8100',
      controllerListen: '127.0.0.1',
      builderListen: '127.0.0.1',
      routerListen: undefined,
      builderHttpUpstream: '127.0.0.1:8101',
    });
    const key = settings.builderKey();
    expect(key).toBe(readFileSync(join(dataDir, 'secrets', 'builder-key'), 'utf8').trim());
    expect(settings.containerKey()).toBe(readFileSync(join(dataDir, 'secrets', 'container-key'), 'utf8').trim());
  });

  it('takes the controller URL, listen addresses and shared secrets from the environment, making no secret files', () => {
    const builderKey = 'b'.repeat(64);
    const containerKey = 'c'.repeat(64);
    const settings = loadRoleSettings(platform(), {
      DEIS_CONTROLLER_URL: 'http://10.0.0.5:8000/',
      DEIS_CONTROLLER_LISTEN: '0.0.0.0',
      DEIS_BUILDER_LISTEN: '0.0.0.0',
      DEIS_ROUTER_LISTEN: '::',
      DEIS_BUILDER_HTTP_UPSTREAM: '10.0.0.6:8001',
      DEIS_BUILDER_KEY: builderKey,
      DEIS_CONTAINER_KEY: containerKey,
    });
    expect(settings).toMatchObject({ controllerUrl: 'http://10.0.0.5:8000', controllerListen: '0.0.0.0', builderListen: '0.0.0.0', routerListen: '::', builderHttpUpstream: '10.0.0.6:8001' });
    expect([settings.builderKey(), settings.containerKey()]).toEqual([builderKey, containerKey]);
    expect(existsSync(join(dataDir, 'secrets'))).toBe(false);
  });

  it('names every bad setting at once, never echoing a secret', () => {
    let message = '';
    try {
      loadRoleSettings(platform(), { DEIS_CONTROLLER_URL: 'http://10.0.0.5:8000/v2', DEIS_BUILDER_LISTEN: 'everywhere', DEIS_BUILDER_KEY: 'short-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DEIS_CONTROLLER_URL must be');
    expect(message).toContain('DEIS_BUILDER_LISTEN must be');
    expect(message).toContain('DEIS_BUILDER_KEY must be a secret of at least 32 characters');
    expect(message).not.toContain('short-secret');
  });

  it('takes several controller URLs separated by commas, for the builder and the router to fail over between', () => {
    const key = { DEIS_BUILDER_KEY: 'b'.repeat(64), DEIS_CONTAINER_KEY: 'c'.repeat(64) };
    expect(loadRoleSettings(platform(), { ...key, DEIS_CONTROLLER_URL: 'http://10.0.0.5:8000/, http://10.0.0.7:8000' }).controllerUrl).toBe('http://10.0.0.5:8000,http://10.0.0.7:8000');
    expect(() => loadRoleSettings(platform(), { ...key, DEIS_CONTROLLER_URL: 'http://10.0.0.5:8000,ftp://10.0.0.7' })).toThrow('DEIS_CONTROLLER_URL must be');
  });

  it('puts the router in edge mode only when given its node\'s engine, on the platform\'s network unless told another', () => {
    expect(loadRoleSettings(platform(), {}).routerEdge).toBeUndefined();
    expect(loadRoleSettings(platform({ DEIS_NETWORK: 'apps' }), { DEIS_ROUTER_EDGE_ENGINE: 'unix:///run/docker.sock' }).routerEdge).toEqual({ engine: 'unix:///run/docker.sock', network: 'apps' });
    expect(loadRoleSettings(platform(), { DEIS_ROUTER_EDGE_ENGINE: 'tcp://100.124.0.12:2375', DEIS_ROUTER_EDGE_NETWORK: 'overlay-1' }).routerEdge).toEqual({ engine: 'tcp://100.124.0.12:2375', network: 'overlay-1' });
    const bad = (env: Record<string, string>) => {
      try {
        loadRoleSettings(platform(), env);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(bad({ DEIS_ROUTER_EDGE_ENGINE: 'docker.sock' })).toContain('DEIS_ROUTER_EDGE_ENGINE must be');
    expect(bad({ DEIS_ROUTER_EDGE_ENGINE: '/run/docker.sock', DEIS_ROUTER_EDGE_NETWORK: 'a b' })).toContain('DEIS_ROUTER_EDGE_NETWORK must be');
    expect(bad({ DEIS_ROUTER_EDGE_NETWORK: 'overlay-1' })).toContain('DEIS_ROUTER_EDGE_NETWORK needs DEIS_ROUTER_EDGE_ENGINE');
  });
});
