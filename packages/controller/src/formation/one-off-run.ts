/**
 * `deis run <command>`: a one-off container of the current release, run to completion.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { RunResult } from '@deis/sdk/types';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { runSpec } from './container-spec.ts';
import { rolloutError } from './rollout-errors.ts';
import { runPodName } from './pod-names.ts';
import { withRunSlot } from './quotas.ts';
import { currentReleaseContext } from './release-context.ts';

/** A one-off command longer than this is killed; the HTTP request waits for it. Interactive and detached runs too. */
export const RUN_TIMEOUT_MS = 30 * 60 * 1000;

export async function runOneOff(deps: ControllerDeps, app: { uuid: string; id: string }, username: string, command: unknown): Promise<RunResult> {
  if (typeof command !== 'string' || command.trim() === '') throw new ValidationError('command is a required field');
  return withRunSlot(deps, app.id, username, async () => {
    const context = await currentReleaseContext(deps, app, 'No build associated with this release to run this command');
    const name = runPodName(app.id);
    await recordEvent(deps.db, app.uuid, `${username} on ${name} runs '${command}'`);
    try {
      // Only a tail of the output is kept: `deis run yes` would otherwise grow one string until the process dies.
      const options = { timeoutMs: RUN_TIMEOUT_MS, maxOutputBytes: deps.settings.limits.runOutputBytes };
      const result = await deps.scheduler.run(runSpec(deps.settings.platformName, context, name, command), options);
      return { exit_code: result.exitCode, output: result.output };
    } catch (error) {
      throw rolloutError(error, 'the command could not run: ');
    }
  });
}
