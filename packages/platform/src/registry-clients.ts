/**
 * The platform's registry as the builder and the controller's scheduler use it (ADR 0019), from DEIS_REGISTRY and
 * its login and CA settings; the password falls back to the one the registry role generated when it shares this
 * data directory. When a CA is given, this host's engines are made to trust it for the registry's address
 * (`/etc/docker/certs.d/<host:port>/ca.crt`), which the builder's push and this host's pulls need.
 * @module
 */
import { loadPlatformRegistry, trustRegistryCa } from '@deis/scheduler/registry/platform-registry';
import type { PlatformRegistry } from '@deis/scheduler/registry/platform-registry';
import type { PlatformSettings } from './platform-settings.ts';
import { storedRegistryPassword } from './registry-settings.ts';

export function registryForRoles(settings: Pick<PlatformSettings, 'dataDir'>, env: Record<string, string | undefined>, certsDir?: string): PlatformRegistry | null {
  const registry = loadPlatformRegistry(env, () => storedRegistryPassword(settings.dataDir));
  if (registry?.ca) trustRegistryCa(registry.address, registry.ca, certsDir);
  return registry;
}
