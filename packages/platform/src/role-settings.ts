/**
 * The settings a role needs when it runs apart from the others (`platform.js controller|builder|router`, ADR 0016):
 * where the controller is, the secrets every process of one platform must share, and the addresses to listen on.
 * Unset, each falls back to what the one-process platform uses on one host, so the roles can also be started as
 * separate processes of one host with no setting at all.
 * @module
 */
import { controllerUrls } from '@deis/sdk/controller-urls';
import type { PlatformSettings } from './platform-settings.ts';
import { ensureBuilderKey, ensureContainerKey } from './secrets.ts';

export type Role = 'controller' | 'builder' | 'router';

export const ROLES: readonly Role[] = ['controller', 'builder', 'router'];

export interface RoleSettings {
  /** Where the builder and the router reach the controller (DEIS_CONTROLLER_URL). */
  controllerUrl: string;
  /** The controller's listen address (DEIS_CONTROLLER_LISTEN); loopback unless the other roles are elsewhere. */
  controllerListen: string;
  /** The builder's SSH and HTTP listen address (DEIS_BUILDER_LISTEN). */
  builderListen: string;
  /** The router's listen address (DEIS_ROUTER_LISTEN); absent: every IPv4 address, as on one host. */
  routerListen: string | undefined;
  /** Where the controller's routing table sends `deis-builder.<domain>` (DEIS_BUILDER_HTTP_UPSTREAM). */
  builderHttpUpstream: string;
  /** The builder key (DEIS_BUILDER_KEY), or the data directory's. */
  builderKey: () => string;
  /** The controllers' container key (DEIS_CONTAINER_KEY), or the data directory's. */
  containerKey: () => string;
  /**
   * The router's edge mode on a cluster (ADR 0020): this node's engine (DEIS_ROUTER_EDGE_ENGINE) and the apps'
   * overlay network (DEIS_ROUTER_EDGE_NETWORK, default the platform's network). Absent unless the engine is set.
   */
  routerEdge: { engine: string; network: string } | undefined;
}

function secret(env: Record<string, string | undefined>, name: string, fallback: () => string, problems: string[]): () => string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Not echoed: it is a secret.
  if (raw.trim().length < 32) problems.push(`${name} must be a secret of at least 32 characters`);
  return () => raw.trim();
}

/** One base URL, or several separated by commas (controllers the builder and the router fail over between). */
function httpUrl(env: Record<string, string | undefined>, name: string, fallback: string, problems: string[]): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const origins: string[] = [];
  for (const part of raw.includes(',') ? controllerUrls(raw) : [raw]) {
    let url: URL | null = null;
    try {
      url = new URL(part);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '') {
      problems.push(`${name} must be the controller's base URL, like http://10.0.0.5:8000, or several separated by commas, not "${raw}"`);
      return fallback;
    }
    origins.push(url.origin);
  }
  return origins.length > 0 ? origins.join(',') : fallback;
}

function address(env: Record<string, string | undefined>, name: string, fallback: string | undefined, problems: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(raw)) problems.push(`${name} must be an IP address to listen on, like 0.0.0.0, not "${raw}"`);
  return raw;
}

/** A Docker engine's endpoint: `unix:///path`, an absolute socket path, or `tcp://host:port`. */
function engineEndpoint(raw: string, name: string, problems: string[]): string {
  if (/^(unix:\/\/)?\/\S+$/.test(raw)) return raw;
  if (/^tcp:\/\/[^\s/:]+(:\d{1,5})?\/?$/.test(raw)) return raw.replace(/\/$/, '');
  problems.push(`${name} must be this node's Docker engine, like unix:///var/run/docker.sock or tcp://10.0.0.5:2375, not "${raw}"`);
  return raw;
}

function routerEdge(env: Record<string, string | undefined>, platform: PlatformSettings, problems: string[]): RoleSettings['routerEdge'] {
  const engine = env.DEIS_ROUTER_EDGE_ENGINE;
  const network = env.DEIS_ROUTER_EDGE_NETWORK || platform.networkName;
  if (engine === undefined || engine === '') {
    if (env.DEIS_ROUTER_EDGE_NETWORK) problems.push('DEIS_ROUTER_EDGE_NETWORK needs DEIS_ROUTER_EDGE_ENGINE, the engine of the node the router runs on');
    return undefined;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network)) problems.push(`DEIS_ROUTER_EDGE_NETWORK must be a Docker network's name, not "${network}"`);
  return { engine: engineEndpoint(engine, 'DEIS_ROUTER_EDGE_ENGINE', problems), network };
}

export function loadRoleSettings(platform: PlatformSettings, env: Record<string, string | undefined> = process.env): Readonly<RoleSettings> {
  const problems: string[] = [];
  const settings: RoleSettings = {
    controllerUrl: httpUrl(env, 'DEIS_CONTROLLER_URL', `http://127.0.0.1:${platform.controllerPort}`, problems),
    controllerListen: address(env, 'DEIS_CONTROLLER_LISTEN', '127.0.0.1', problems) ?? '127.0.0.1',
    builderListen: address(env, 'DEIS_BUILDER_LISTEN', '127.0.0.1', problems) ?? '127.0.0.1',
    routerListen: address(env, 'DEIS_ROUTER_LISTEN', undefined, problems),
    builderHttpUpstream: env.DEIS_BUILDER_HTTP_UPSTREAM || `127.0.0.1:${platform.builderHttpPort}`,
    builderKey: secret(env, 'DEIS_BUILDER_KEY', () => ensureBuilderKey(platform.dataDir), problems),
    containerKey: secret(env, 'DEIS_CONTAINER_KEY', () => ensureContainerKey(platform.dataDir), problems),
    routerEdge: routerEdge(env, platform, problems),
  };
  if (problems.length > 0) throw new Error(`invalid role settings:\n  ${problems.join('\n  ')}`);
  return Object.freeze(settings);
}
