/**
 * The push of a built image to the platform's registry (ADR 0019), for a platform whose app containers run on other
 * hosts than the builder's engine: the image is named `<registry>/<app>:git-<sha8>`, pushed with the platform's login
 * before the build is reported, and that name is the release's image, which every node pulls.
 * @module
 */
import type Dockerode from 'dockerode';
import { engineMessage } from './docker-build.ts';

/** Where images go (DEIS_REGISTRY) and the login the engine pushes with. */
export interface BuilderRegistry {
  /** `host:port`, as image names carry it. */
  address: string;
  username: string;
  password: string;
}

export class ImagePushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImagePushError';
  }
}

interface PushEvent {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * What the engine's push error means to a pusher: a refused login is said plainly, and so is the registry's read-only
 * spell while its garbage collection runs (the engine words that 405 as an unparsable response body).
 */
export function pushFailure(registry: Pick<BuilderRegistry, 'address' | 'username'>, image: string, message: string): ImagePushError {
  if (/unauthorized|authentication required|denied|no basic auth credentials/i.test(message)) {
    return new ImagePushError(`The registry ${registry.address} refused the platform's login (user ${registry.username}) for ${image}: ${message}`);
  }
  if (/HTTP 405|method not allowed/i.test(message)) {
    return new ImagePushError(`The registry ${registry.address} takes no pushes for the moment (read-only while its garbage collection runs); push again in a minute`);
  }
  return new ImagePushError(`Pushing ${image} to the registry ${registry.address} failed: ${message}`);
}

/**
 * Pushes `image` (already named under the registry) with the registry's login, relaying each layer's outcome once.
 * The login goes to the engine for this push only (X-Registry-Auth); the engine keeps nothing of it.
 */
export async function pushImage(docker: Dockerode, registry: BuilderRegistry, image: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  if (!image.startsWith(`${registry.address}/`)) throw new ImagePushError(`${image} is not named under the registry ${registry.address}`);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.getImage(image).push({
      authconfig: { username: registry.username, password: registry.password, serveraddress: registry.address },
      ...(signal ? { abortSignal: signal } : {}),
    });
  } catch (error) {
    throw pushFailure(registry, image, engineMessage(error));
  }
  const seen = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    let failure: string | null = null;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        if (failure !== null) reject(pushFailure(registry, image, failure));
        else if (error) reject(pushFailure(registry, image, engineMessage(error)));
        else resolve();
      },
      (event: PushEvent) => {
        if (failure === null && (event.error || event.errorDetail?.message)) failure = event.errorDetail?.message ?? event.error ?? 'unknown engine error';
        // Layer progress repeats many times a second; only each layer's changes of state are worth a line.
        if (!event.status || event.status === 'Pushing') return;
        const line = event.id ? `${event.id}: ${event.status}` : event.status;
        if (seen.has(line)) return;
        seen.add(line);
        onLine(line);
      },
    );
  });
  if (signal?.aborted) throw new ImagePushError('the push to the registry was interrupted');
}
