/**
 * How a failed rollout reaches the user: which DeisError, and a message with the app's own last words.
 * @module
 */
import { DeisError, UnavailableError, ValidationError } from '@deis/core/errors';
import { ImageNotFoundError, ImagePullDeniedError, SchedulerUnavailableError } from '@deis/scheduler/scheduler';
import { RolloutFailure } from './rollout.ts';

/** The user-facing sentence for a failed rollout, with the app's own last words. */
export function rolloutErrorMessage(error: unknown): string {
  if (error instanceof RolloutFailure) {
    const output = error.lastLines.length > 0 ? `; its last output:\n${error.lastLines.join('\n')}` : '';
    return `the ${error.type} container ${error.containerName} did not become ready: ${error.message}${output}`;
  }
  // Worded as Deis words a failed pull (registry/dockerclient.py): scripts match them.
  if (error instanceof ImageNotFoundError) return `image ${error.image} not found`;
  if (error instanceof ImagePullDeniedError) return `Permission Denied attempting to pull image ${error.image}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The DeisError for a rollout that failed: the engine being unavailable is a 503; anything about the app itself
 * (a crash, a failed readiness check, a missing image) is a 400 `{"detail"}`, as Deis answers a failed deploy.
 */
export function rolloutError(error: unknown, prefix = ''): DeisError {
  if (error instanceof DeisError) return error;
  const message = `${prefix}${rolloutErrorMessage(error)}`;
  if (error instanceof SchedulerUnavailableError) return new UnavailableError(message, { cause: error });
  return new ValidationError(message, { code: 'deploy_failed', cause: error });
}
