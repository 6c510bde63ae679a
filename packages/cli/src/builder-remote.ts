/**
 * Where `git push deis` goes, and which app a remote names. The builder's SSH host is the controller's with `-builder`
 * added to the first label (`deis.example.com` → `deis-builder.example.com`), as the Deis v2 CLI derives it; an IP
 * controller keeps its address. Port 2222, or DEIS_BUILDER_SSH_PORT; DEIS_BUILDER_HOST replaces the derived host.
 * @module
 */
import { isIP } from 'node:net';

export const DEFAULT_BUILDER_SSH_PORT = 2222;

export function builderHost(controllerUrl: string, env: NodeJS.ProcessEnv): string {
  if (env.DEIS_BUILDER_HOST) return env.DEIS_BUILDER_HOST;
  const { hostname } = new URL(controllerUrl);
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return bare;
  const labels = hostname.split('.');
  labels[0] = `${labels[0]}-builder`;
  return labels.join('.');
}

export function builderPort(env: NodeJS.ProcessEnv): number {
  const raw = env.DEIS_BUILDER_SSH_PORT;
  const port = raw ? Number(raw) : DEFAULT_BUILDER_SSH_PORT;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_BUILDER_SSH_PORT;
}

export function remoteUrl(controllerUrl: string, app: string, env: NodeJS.ProcessEnv): string {
  const host = builderHost(controllerUrl, env);
  return `ssh://git@${isIP(host) === 6 ? `[${host}]` : host}:${builderPort(env)}/${app}.git`;
}

/** The app of a builder remote URL (`ssh://git@host:2222/<app>.git`, `git@host:<app>.git`, or http(s)), or null. */
export function appFromRemoteUrl(url: string): string | null {
  const match = /[/:]([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.git)?\/?$/.exec(url);
  return match ? match[1]! : null;
}

/** Whether a remote URL points at this controller's builder (any port), so we never mistake an unrelated origin. */
export function isBuilderRemote(url: string, controllerUrl: string, env: NodeJS.ProcessEnv): boolean {
  const host = builderHost(controllerUrl, env);
  return url.includes(`@${host}:`) || url.includes(`@[${host}]:`) || url.includes(`//${host}/`) || url.includes(`//${host}:`);
}
