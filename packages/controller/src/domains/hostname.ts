/**
 * The hostname rules of a domain added to an app (Deis's `DomainSerializer.validate_domain`): one trailing dot is
 * dropped, international names become punycode, a `*` may only stand as the whole first label, and the result must
 * be a plain DNS name. The router writes these names into its config, so nothing but `[a-z0-9.*-]` ever gets through.
 * @module
 */
import { domainToASCII } from 'node:url';
import { ValidationError } from '@deis/core/errors';

export const MAX_HOSTNAME_LENGTH = 253;

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** URL host parsing would cut the name at these (or drop them) rather than refuse it, so they are refused first. */
const URL_SYNTAX = /[\s\p{Cc}/\\?#@:%[\]]/u;

function invalid(message = 'Hostname does not look valid.'): ValidationError {
  return ValidationError.field('domain', message);
}

/** Whether `host` is `suffix` itself or a name under it. */
export function isWithin(host: string, suffix: string): boolean {
  return host === suffix || host.endsWith(`.${suffix}`);
}

/**
 * The stored form of a domain as a user gave it.
 * @throws ValidationError on the `domain` field, with Deis's messages.
 */
export function normalizeDomain(raw: unknown): string {
  if (raw === undefined || raw === null) throw invalid('This field is required.');
  if (typeof raw !== 'string') throw invalid('Not a valid string.');
  let value = raw.trim();
  if (value === '') throw invalid('This field may not be blank.');
  if (value.endsWith('.')) value = value.slice(0, -1);
  if (value === '*') throw invalid("Hostname can't only be a wildcard");

  const wildcard = value.startsWith('*.');
  const rest = wildcard ? value.slice(2) : value;
  if (URL_SYNTAX.test(rest)) throw invalid();
  // domainToASCII answers '' for what WHATWG host parsing refuses, and lowercases and punycodes the rest.
  const ascii = rest === '' ? '' : domainToASCII(rest);
  if (ascii === '') throw invalid();
  const labels = ascii.split('.');
  if (!labels.every((label) => LABEL.test(label))) throw invalid();
  // RFC 3696: a top-level label is never all digits (this also keeps IP addresses out).
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) throw invalid();

  const domain = wildcard ? `*.${ascii}` : ascii;
  if (domain.length > MAX_HOSTNAME_LENGTH) throw invalid(`Hostname must be ${MAX_HOSTNAME_LENGTH} characters or less.`);
  return domain;
}

/** The stored form of a domain named in a URL, or null when it cannot be one (so the lookup is a plain 404). */
export function domainForLookup(raw: string): string | null {
  try {
    return normalizeDomain(raw);
  } catch {
    return null;
  }
}
