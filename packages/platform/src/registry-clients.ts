/**
 * The platform's registry as the builder and the controller's scheduler use it (ADR 0019), from DEIS_REGISTRY and
 * its login and CA settings; the password falls back to the one the registry role generated when it shares this
 * data directory. When a CA is given, this host's engines are made to trust it for the registry's address
 * (`/etc/docker/certs.d/<host:port>/ca.crt`), which the builder's push and this host's pulls need.
 * @module
 */
import { checkRegistryAddress, loadPlatformRegistry, trustRegistryCa } from '@deis/scheduler/registry/platform-registry';
import type { PlatformRegistry } from '@deis/scheduler/registry/platform-registry';
import type { PlatformSettings } from './platform-settings.ts';
import { storedRegistryPassword } from './registry-settings.ts';

export function registryForRoles(settings: Pick<PlatformSettings, 'dataDir'>, env: Record<string, string | undefined>, certsDir?: string): PlatformRegistry | null {
  const registry = loadPlatformRegistry(env, () => storedRegistryPassword(settings.dataDir));
  if (registry?.ca) trustRegistryCa(registry.address, registry.ca, certsDir);
  return registry;
}

/**
 * DEIS_SWARM_PULL_REGISTRIES: the registries besides the platform's (`host:port`, comma-separated) whose images the
 * swarm's nodes pull themselves, with the app's `deis registry` login; images of any other are copied from the
 * manager's engine, which pulls only from a registry on itself (ADR 0019).
 */
export function pullRegistriesFromEnv(env: Record<string, string | undefined>): string[] {
  return (env.DEIS_SWARM_PULL_REGISTRIES ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      try {
        return checkRegistryAddress(entry);
      } catch (error) {
        throw new Error(`DEIS_SWARM_PULL_REGISTRIES: ${(error as Error).message}`);
      }
    });
}
