/**
 * Which images the swarm's nodes pull from a registry themselves (ADR 0019) and with what login, and the manager's own
 * pull of such an image (its engine answers the backend's questions about the image's ports and files).
 * @module
 */
import type Docker from 'dockerode';
import { pullError, registryOf } from '../docker/docker-scheduler.ts';
import { engineAuth } from '../registry/platform-registry.ts';
import type { PlatformRegistry } from '../registry/platform-registry.ts';
import { SchedulerUnavailableError } from '../scheduler.ts';
import type { RegistryLogin } from '../scheduler.ts';

export type EngineAuth = ReturnType<typeof engineAuth> | Record<string, never>;

/**
 * The `X-Registry-Auth` the nodes pull `image` with: the platform's login for the platform's registry, the app's
 * login (or none: a public image) for a registry the operator lets nodes reach; undefined for every other image,
 * which the manager's engine has and copies to the nodes.
 */
export function imagePullAuth(image: string, platform: PlatformRegistry | undefined, pullRegistries: ReadonlySet<string>, appLogin: RegistryLogin | undefined): EngineAuth | undefined {
  const registry = registryOf(image);
  if (registry === null) return undefined;
  if (platform && registry === platform.address) return engineAuth(registry, platform.login);
  if (!pullRegistries.has(registry)) return undefined;
  return appLogin ? engineAuth(registry, appLogin) : {};
}

/** Pulls `image` onto one engine with `auth`; the registry's refusals become ImagePullDeniedError / ImageNotFoundError. */
export async function pullOnEngine(docker: Docker, image: string, auth: EngineAuth): Promise<void> {
  let events: Array<{ error?: string; errorDetail?: { message?: string } }>;
  try {
    const stream = await docker.pull(image, { authconfig: auth });
    events = await new Promise((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, output: typeof events) => (error ? reject(error) : resolve(output)));
    });
  } catch (error) {
    const engine = error as { statusCode?: number; json?: { message?: string }; message?: string };
    const message = (engine.json?.message ?? engine.message ?? String(error)).trim();
    if (engine.statusCode === undefined || engine.statusCode >= 500) {
      // The engine words a refused login as a 500 from its own pull.
      if (/denied|unauthorized|authentication required|no basic auth credentials|not found|manifest unknown/i.test(message)) throw pullError(image, message);
      throw new SchedulerUnavailableError(`Swarm: pulling image ${image}: ${message}`, { cause: error });
    }
    throw pullError(image, message);
  }
  const failure = events.find((event) => event.error);
  if (failure) throw pullError(image, failure.errorDetail?.message ?? failure.error ?? '');
}
