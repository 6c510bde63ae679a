/**
 * `deis run --detached <command>`: a one-off container that runs on its own, with no terminal and nobody waiting;
 * the request answers with its name at once. What it prints goes to the app's log (`deis logs`, tagged
 * `<app>[run.<vN>.<suffix>]`): the container is removed when it ends, so its lines go into the app log buffer (ADR
 * 0012) as they arrive, as an app container's would, and from there to `deis logs -f` and the drains.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { runSpec } from './container-spec.ts';
import { RUN_MODE_LABEL } from './interactive-run.ts';
import { RUN_TIMEOUT_MS } from './one-off-run.ts';
import { podSuffix, runPodName } from './pod-names.ts';
import { withRunSlot } from './quotas.ts';
import { currentReleaseContext } from './release-context.ts';
import { rolloutErrorMessage } from './rollout-errors.ts';

/** A longer line is cut: one endless line must not hold memory. */
const MAX_LINE_CHARS = 8 * 1024;

/** Cuts output into lines as it arrives; a line is kept once its newline comes, or when the run ends. */
function lineSplitter(onLine: (text: string) => void): { push(chunk: string): void; end(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
      }
      if (pending.length > MAX_LINE_CHARS) {
        onLine(pending);
        pending = '';
      }
    },
    end() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

/**
 * Starts `command` in a one-off container and resolves with its name once the run has a slot, a release and its
 * event; the run goes on after. Refusals (no command, no build, no slot) reject as `POST /run`'s do.
 */
export function startDetachedRun(deps: ControllerDeps, app: { uuid: string; id: string }, username: string, command: unknown): Promise<{ name: string }> {
  if (typeof command !== 'string' || command.trim() === '') return Promise.reject(new ValidationError('command is a required field'));
  return new Promise((resolve, reject) => {
    withRunSlot(deps, app.id, username, async () => {
      const context = await currentReleaseContext(deps, app, 'No build associated with this release to run this command');
      const name = runPodName(app.id);
      await recordEvent(deps.db, app.uuid, `${username} on ${name} runs '${command}' (detached)`);
      const spec = runSpec(deps.settings.platformName, context, name, command);
      spec.labels = { ...spec.labels, [RUN_MODE_LABEL]: 'detached' };
      resolve({ name });
      const tag = `run.v${context.version}.${podSuffix(name)}`;
      const lines = lineSplitter((text) => deps.logs.appendAppLog(app.id, tag, text.slice(0, MAX_LINE_CHARS)));
      try {
        // The log keeps the output; the result's own copy is only bounded (a small tail still lets the engine's
        // scheduler recover a last line that missed the followed stream).
        const result = await deps.scheduler.run(spec, { timeoutMs: RUN_TIMEOUT_MS, maxOutputBytes: 64 * 1024, onOutput: (chunk) => lines.push(chunk) });
        lines.end();
        await recordEvent(deps.db, app.uuid, `${name} exited with code ${result.exitCode}`);
      } catch (error) {
        lines.end();
        await recordEvent(deps.db, app.uuid, `${name} failed: ${rolloutErrorMessage(error)}`);
      }
    }).catch(reject);
  });
}
