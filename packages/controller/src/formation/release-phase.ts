/**
 * The release phase, as Heroku has it: a Procfile `release:` command runs once per new release (a build, a config
 * change, a rollback) in a one-off container of that release, before any of the release's containers start. Its exit
 * decides the release: non-zero, or over the time limit, and the release fails while the previous one keeps serving.
 * Its output goes to whoever asked for the release as it comes (the pusher) and into the app's log.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { DEFAULT_RELEASE_PHASE_TIMEOUT_SECONDS } from '../settings.ts';
import { RELEASE_TYPE, runSpec } from './container-spec.ts';
import type { ReleaseContext } from './container-spec.ts';
import { podSuffix, runPodName } from './pod-names.ts';

/** Receives the release phase's output as it arrives (text chunks, not necessarily whole lines). */
export type ReleaseOutputSink = (text: string) => void;

/** The `code` of the error a failed or timed-out release command gives. */
export const RELEASE_PHASE_FAILED = 'release_phase_failed';

/** A chatty command must not fill the app's log: past this many lines only the pusher sees its output. */
const LOGGED_LINES_MAX = 1_000;
/** The last lines of output the failure message quotes. */
const QUOTED_LINES = 20;
/** What the scheduler keeps of the output; the message quotes only its last lines. */
const KEPT_OUTPUT_BYTES = 64 * 1024;

export function releasePhaseTimeoutMs(deps: ControllerDeps): number {
  return deps.settings.releasePhaseTimeoutMs ?? DEFAULT_RELEASE_PHASE_TIMEOUT_SECONDS * 1000;
}

/**
 * The release phase in the app's log: what the command prints goes into the app log buffer tagged as its container
 * (`<app>[release.vN.<suffix>]: …`, ADR 0012), so `deis logs -f` and the drains get it as it comes; the start and the
 * outcome are the platform's event lines.
 */
class ReleaseLog {
  readonly #deps: ControllerDeps;
  readonly #context: ReleaseContext;
  readonly #tag: string;
  #pending = '';
  #logged = 0;
  #skipped = 0;
  #writes: Promise<void> = Promise.resolve();
  readonly lastLines: string[] = [];

  constructor(deps: ControllerDeps, context: ReleaseContext, containerName: string) {
    this.#deps = deps;
    this.#context = context;
    this.#tag = `${RELEASE_TYPE}.v${context.version}.${podSuffix(containerName)}`;
  }

  /** A line of the platform's own about the release phase. */
  event(message: string): void {
    this.#write(`v${this.#context.version} release phase ${message}`);
  }

  output(text: string): void {
    this.#pending += text;
    const lines = this.#pending.split('\n');
    this.#pending = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
  }

  /** Writes what is pending; resolves once every line is stored. */
  async flush(): Promise<void> {
    if (this.#pending !== '') this.#line(this.#pending);
    this.#pending = '';
    if (this.#skipped > 0) this.event(`printed ${this.#skipped} more lines, not kept in the log`);
    this.#skipped = 0;
    await this.#writes;
  }

  #line(raw: string): void {
    const line = raw.replace(/\r$/, '').split('\r').at(-1) ?? '';
    this.lastLines.push(line);
    if (this.lastLines.length > QUOTED_LINES) this.lastLines.shift();
    if (this.#logged >= LOGGED_LINES_MAX) {
      this.#skipped++;
      return;
    }
    this.#logged++;
    this.#deps.logs.appendAppLog(this.#context.appId, this.#tag, line);
  }

  #write(message: string): void {
    const at = new Date();
    // In order, one at a time; a store that fails here must not fail the release.
    this.#writes = this.#writes.then(() => recordEvent(this.#deps.db, this.#context.appUuid, message, at)).catch(() => undefined);
  }
}

/** Settings are whole seconds; tests use less. */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function failure(message: string, lastLines: string[]): ValidationError {
  const quoted = lastLines.length > 0 ? `; its last output:\n${lastLines.join('\n')}` : '';
  return new ValidationError(`${message}${quoted}`, { code: RELEASE_PHASE_FAILED });
}

/**
 * Runs the release's `release:` command, if its Procfile has one, to completion. Resolves when it exited with 0.
 * @throws ValidationError (`release_phase_failed`) when it exited otherwise or ran out of time; the scheduler's errors
 *   (engine unavailable, image missing) as they are
 */
export async function runReleasePhase(deps: ControllerDeps, context: ReleaseContext, onOutput?: ReleaseOutputSink): Promise<void> {
  const command = context.build.procfile[RELEASE_TYPE];
  if (command === undefined) return;
  const name = runPodName(context.appId);
  const timeoutMs = releasePhaseTimeoutMs(deps);
  const log = new ReleaseLog(deps, context, name);
  log.event(`started: ${name} runs '${command}'`);
  onOutput?.(`Running release command '${command}'...\n`);
  const began = Date.now();
  let exitCode: number;
  try {
    const spec = runSpec(deps.settings.platformName, context, name, command);
    const result = await deps.scheduler.run(spec, {
      timeoutMs,
      maxOutputBytes: KEPT_OUTPUT_BYTES,
      onOutput: (text) => {
        onOutput?.(text);
        log.output(text);
      },
    });
    exitCode = result.exitCode;
  } catch (error) {
    await log.flush();
    // The scheduler stops and removes a run that outlives its time; its error says so in the engine's words.
    if (Date.now() - began >= timeoutMs) {
      log.event(`timed out after ${duration(timeoutMs)}`);
      await log.flush();
      throw failure(`release phase timed out: the release command '${command}' of v${context.version} did not finish within ${duration(timeoutMs)} and was stopped; v${context.version} was not deployed`, log.lastLines);
    }
    throw error;
  }
  await log.flush();
  if (exitCode !== 0) {
    log.event(`failed: exit code ${exitCode}`);
    await log.flush();
    throw failure(`release phase failed: the release command '${command}' of v${context.version} exited with code ${exitCode}; v${context.version} was not deployed`, log.lastLines);
  }
  log.event('succeeded');
  await log.flush();
}
