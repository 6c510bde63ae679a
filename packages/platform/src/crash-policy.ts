/**
 * What the platform process does with an error nothing caught (a throw in a timer or stream handler, a rejected
 * promise nobody awaited): it logs it and keeps serving, since controller, builder and router share the process and
 * one request's fault must not end every role. Only a burst of uncaught exceptions (the process may be in a state no
 * handler expected) ends it, for the supervisor to start it afresh.
 * @module
 */

export interface CrashPolicyOptions {
  log: (line: string) => void;
  /** Ends the process; the supervisor (supervisor.ts) starts a new one. */
  exit: (code: number) => void;
  /** Uncaught exceptions within `windowMs` that end the process. */
  maxExceptions?: number;
  windowMs?: number;
  now?: () => number;
}

interface ProcessEvents {
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

export function installCrashPolicy(target: ProcessEvents, options: CrashPolicyOptions): void {
  const max = options.maxExceptions ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? (() => Date.now());
  let recent: number[] = [];
  target.on('unhandledRejection', (reason) => {
    options.log(`an unhandled promise rejection (kept serving): ${describe(reason)}`);
  });
  target.on('uncaughtException', (error) => {
    const at = now();
    recent = recent.filter((time) => at - time < windowMs);
    recent.push(at);
    if (recent.length >= max) {
      options.log(`${recent.length} uncaught exceptions within ${Math.round(windowMs / 1000)} s, the last: ${describe(error)}; exiting for the supervisor to restart the platform`);
      options.exit(1);
      return;
    }
    options.log(`an uncaught exception (kept serving): ${describe(error)}`);
  });
}
