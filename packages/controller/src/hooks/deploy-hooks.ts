/**
 * Deploy hooks (contract §1.4): on every new release, a POST to each of `DEIS_DEPLOY_HOOK_URLS` with
 * `?app=&release=vN&release_summary=&sha=&user=` (sorted, as Deis sends them) and, when a secret is set, an
 * `Authorization` header holding the HMAC-SHA1 hex of the full URL, so a receiver can tell the call came from us.
 * The same fields also come as a JSON body. Fire-and-forget: a slow or failing receiver never holds up a release.
 * @module
 */
import { createHmac } from 'node:crypto';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';

export const DEPLOY_HOOK_TIMEOUT_MS = 10_000;

export interface ReleaseNotice {
  appUuid: string;
  appId: string;
  version: number;
  summary: string;
  /** The build's sha; empty for image builds and releases without a build. */
  sha: string;
  username: string;
}

/** Python's `urllib.parse.quote_plus`, so the signed URL is byte for byte what a Deis receiver expects. */
function quotePlus(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The URL a hook is posted to: the configured one plus the sorted release parameters. */
export function deployHookUrl(base: string, notice: ReleaseNotice): string {
  const params: [string, string][] = [
    ['app', notice.appId],
    ['release', `v${notice.version}`],
    ['release_summary', notice.summary],
    ['sha', notice.sha],
    ['user', notice.username],
  ];
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${base}${base.includes('?') ? '&' : '?'}${params.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&')}`;
}

export function signDeployHook(url: string, secret: string): string {
  return createHmac('sha1', secret).update(url).digest('hex');
}

/** A hook URL fit for a log line: no credentials and no query string, which may carry secrets of the receiver. */
function displayUrl(base: string): string {
  try {
    const url = new URL(base);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(an invalid deploy hook URL)';
  }
}

/** fetch refuses credentials in a URL: they become a Basic header, unless the signature needs the header. */
function requestTarget(url: string, secret: string | null): { target: string; authorization: string | null } {
  const parsed = new URL(url);
  let authorization = secret ? signDeployHook(url, secret) : null;
  if (parsed.username || parsed.password) {
    if (!authorization) authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  return { target: parsed.toString(), authorization };
}

async function postHook(deps: ControllerDeps, base: string, notice: ReleaseNotice, timeoutMs: number): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const body = JSON.stringify({ app: notice.appId, release: `v${notice.version}`, release_summary: notice.summary, sha: notice.sha, user: notice.username });
  let outcome: string;
  try {
    const { target, authorization } = requestTarget(deployHookUrl(base, notice), deps.settings.deployHookSecret);
    if (authorization) headers.authorization = authorization;
    const response = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    outcome = response.ok ? `Deploy hook sent to ${displayUrl(base)}` : `Deploy hook to ${displayUrl(base)} answered ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000}s`
        : typeof cause?.code === 'string'
          ? cause.code
          : // Messages of URL and fetch errors quote the URL, credentials and all.
            String((error as Error).message).replace(/\S*:\/\/\S*/g, '(the hook URL)');
    outcome = `An error occurred while sending the deploy hook to ${displayUrl(base)}: ${reason}`;
  }
  // The app may be gone by now; a lost log line is no reason to fail anything.
  await recordEvent(deps.db, notice.appUuid, outcome).catch(() => undefined);
}

/** Posts to every configured hook at once; resolves when all have answered or failed, and never rejects. */
export async function sendDeployHooks(deps: ControllerDeps, notice: ReleaseNotice, timeoutMs = DEPLOY_HOOK_TIMEOUT_MS): Promise<void> {
  await Promise.all(deps.settings.deployHookUrls.map((base) => postHook(deps, base, notice, timeoutMs)));
}
