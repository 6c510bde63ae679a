/**
 * Time as the store keeps it (ISO-8601 with milliseconds, so rows sort by it) and as the wire shows it
 * (`%Y-%m-%dT%H:%M:%SZ`, the contract's format).
 * @module
 */

export function storeTime(date: Date = new Date()): string {
  return date.toISOString();
}

export function wireTime(stored: string): string;
export function wireTime(stored: string | null): string | null;
export function wireTime(stored: string | null): string | null {
  return stored === null ? null : `${stored.slice(0, 19)}Z`;
}
