/**
 * A log drain's URL: which kinds there are (`syslog://host:port`, `syslog+tls://host:port`, `https://…`), and how one
 * is shown: never in full, since a drain URL often carries a token or a password (in its user info or its query).
 * @module
 */
import { ValidationError } from '@deis/core/errors';

export type DrainKind = 'syslog' | 'syslog+tls' | 'https';

export interface DrainTarget {
  kind: DrainKind;
  url: URL;
}

/** The drain a URL names; a 400 on `url` for anything else. */
export function parseDrainUrl(raw: unknown): DrainTarget {
  if (typeof raw !== 'string' || raw.trim() === '') throw ValidationError.field('url', 'This field may not be blank.');
  if (raw.length > 2048) throw ValidationError.field('url', 'Ensure this field has no more than 2048 characters.');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw ValidationError.field('url', 'Enter a valid URL.');
  }
  const kind = url.protocol.slice(0, -1);
  if (kind === 'syslog' || kind === 'syslog+tls') {
    if (url.hostname === '' || url.port === '') throw ValidationError.field('url', `A ${kind} drain needs a host and a port: ${kind}://host:port`);
    return { kind, url };
  }
  if (kind === 'https') {
    if (url.hostname === '') throw ValidationError.field('url', 'An https drain needs a host.');
    return { kind, url };
  }
  throw ValidationError.field('url', 'A drain URL starts with syslog://, syslog+tls:// or https://');
}

/** The URL with its user info and query values replaced by `***`: enough to tell drains apart, nothing to reuse. */
export function maskDrainUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '***';
  }
  const userInfo = url.username !== '' || url.password !== '' ? '***@' : '';
  const query = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  const path = url.pathname === '/' && !raw.replace(/^[a-z+]+:\/\/[^/]*/i, '').startsWith('/') ? '' : url.pathname;
  return `${url.protocol}//${userInfo}${url.host}${path}${query ? `?${query}` : ''}`;
}
