/**
 * Where `git push deis` goes, and which app a remote names. The builder's SSH host is the controller's with `-builder`
 * added to the first label (`deis.example.com` → `deis-builder.example.com`), as the Deis v2 CLI derives it; an IP
 * controller keeps its address. Port 2222, or DEIS_BUILDER_SSH_PORT; DEIS_BUILDER_HOST replaces the derived host.
 * @module
 */

export const DEFAULT_BUILDER_SSH_PORT = 2222;

/** An IPv4 or IPv6 literal (a host name never contains a colon); node:net would say the same at a startup cost. */
function ipVersion(host: string): 0 | 4 | 6 {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return 4;
  return host.includes(':') ? 6 : 0;
}

export function builderHost(controllerUrl: string, env: NodeJS.ProcessEnv): string {
  if (env.DEIS_BUILDER_HOST) return env.DEIS_BUILDER_HOST;
  const { hostname } = new URL(controllerUrl);
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (ipVersion(bare)) return bare;
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
  return `ssh://git@${ipVersion(host) === 6 ? `[${host}]` : host}:${builderPort(env)}/${app}.git`;
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
