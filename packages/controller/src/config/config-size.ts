/**
 * The size limits of an app's config (settings `limits.configValues` and `limits.configBytes`): every value is stored
 * in each release and passed to every container, so an unbounded config grows the store and the engine's requests.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { TenantLimits } from '../settings.ts';
import type { ConfigChange, ConfigData } from './config-data.ts';

function bytesOf(values: Record<string, string>): number {
  return Object.entries(values).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
}

/**
 * Refuses (400) a config over a limit, unless the change only unsets values: a config already over a limit an
 * operator lowered can still shrink.
 */
export function checkConfigSize(merged: ConfigData, change: ConfigChange, limits: Pick<TenantLimits, 'configValues' | 'configBytes'>): void {
  const adds = Object.values(change.values ?? {}).some((value) => value !== null);
  if (!adds) return;
  const count = Object.keys(merged.values).length;
  if (count > limits.configValues) {
    throw ValidationError.field('values', `The config would hold ${count} values; the limit is ${limits.configValues} (DEIS_LIMIT_CONFIG_VALUES)`);
  }
  const bytes = bytesOf(merged.values);
  if (bytes > limits.configBytes) {
    throw ValidationError.field('values', `The config's names and values would take ${bytes} bytes; the limit is ${limits.configBytes} (DEIS_LIMIT_CONFIG_BYTES)`);
  }
}
