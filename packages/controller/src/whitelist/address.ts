/**
 * Whitelist entries: an IPv4 or IPv6 address, or one with a prefix length (`10.0.0.0/8`, `10.1.2.3/24`, `fd00::/8`),
 * as Python's `ip_address`/`ip_network`/`ip_interface` accept them in Deis. The router writes each entry into an
 * nginx `allow` line, so the check is strict: no zone ids, no netmask notation, nothing else.
 * @module
 */
import { isIP } from 'node:net';
import { ValidationError } from '@deis/core/errors';

export function isValidAddress(entry: string): boolean {
  const parts = entry.split('/');
  if (parts.length > 2) return false;
  const [address = '', prefix] = parts;
  if (address.includes('%')) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * A list of addresses from a request field: an array, or its JSON text (form-encoded bodies).
 * @throws ValidationError on `field`: `The address X is not valid` for the first bad entry.
 */
export function addressList(raw: unknown, field: string): string[] {
  let value = raw;
  if (value === undefined || value === null) throw ValidationError.field(field, 'This field is required.');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      value = [value];
    }
  }
  if (!Array.isArray(value)) throw ValidationError.field(field, `Expected a list of items but got type "${typeof value}".`);
  const addresses: string[] = [];
  for (const entry of value) {
    if (typeof entry !== 'string' || !isValidAddress(entry.trim())) throw ValidationError.field(field, `The address ${String(entry)} is not valid`);
    const address = entry.trim();
    if (!addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}
