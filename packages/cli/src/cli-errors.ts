/**
 * The CLI's own failures and the exit code each one ends the process with: 1 a failed command, 2 a usage error
 * (unknown flag, missing argument), 3 not logged in or a token the controller rejected.
 * @module
 */

export class CliError extends Error {
  readonly exitCode: number;
  /** A second line telling the user what to do next. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
    this.name = 'UsageError';
  }
}

export class NotLoggedInError extends CliError {
  constructor(message = 'Not logged in.', hint = "Run 'deis login <controller>' or 'deis register <controller>' first.") {
    super(message, { hint, exitCode: 3 });
    this.name = 'NotLoggedInError';
  }
}
