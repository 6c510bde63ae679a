/**
 * What every command is handed: the process's streams and environment, output helpers that keep stdout pure JSON
 * under --json, the logged-in session (profile + API client), and the app the command works on.
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { ApiClient } from '@deis/sdk/client';
import type { Page } from '@deis/sdk/types';
import { API_VERSION } from '@deis/sdk/types';
import { appFromRemoteUrl, isBuilderRemote } from './builder-remote.ts';
import { CliError, NotLoggedInError } from './cli-errors.ts';
import { stringOption } from './command-spec.ts';
import type { OptionValues } from './command-spec.ts';
import { listRemotes } from './git.ts';
import { ask, askSecret } from './prompt.ts';
import { profilePath, readProfile } from './profile.ts';
import type { Profile } from './profile.ts';
import { createTerminal, startSpinner } from './terminal.ts';
import type { Terminal } from './terminal.ts';
import { createTransport } from './transport.ts';
import { CLI_VERSION } from './version.ts';

export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Session {
  profile: Profile;
  profilePath: string;
  client: ApiClient;
}

export interface CommandContext {
  io: CliIO;
  term: Terminal;
  json: boolean;
  /** A human line: stdout, or stderr under --json so stdout stays parseable. */
  say(text?: string): void;
  /** Human text without a newline (progress lines). */
  write(text: string): void;
  /** JSON on stdout. */
  emit(value: unknown): void;
  warn(text: string): void;
  /** Writes `label`, spins on a TTY, and finishes the line with `done` (or the given text). */
  progress<T>(label: string, work: () => Promise<T>, done?: (result: T) => string): Promise<T>;
  ask(question: string): Promise<string>;
  askSecret(question: string): Promise<string>;
  profilePath(): string;
  /** The stored profile (with DEIS_CONTROLLER_URL applied); throws NotLoggedInError when there is none. */
  session(): Promise<Session>;
  /** An API client for a controller before any login (register, login). */
  anonymousClient(controller: string, sslVerify: boolean, token?: string): ApiClient;
  /** `-a`, else the app of the repository's deis remote, else a CliError saying how to choose. */
  app(session: Session, flag: string | undefined): Promise<string>;
  /** What a command working on one app starts with: the session, and the app of its `-a` value (see app()). */
  appSession(values: OptionValues): Promise<{ session: Session; app: string }>;
  /** GET a paginated list with `?limit=` (the profile's response_limit unless given). */
  list<T>(session: Session, path: string, limit?: string): Promise<Page<T>>;
}

export function createContext(io: CliIO, options: { json: boolean; configFlag: string | undefined }): CommandContext {
  const term = createTerminal(io.stdout, io.env, options.json);
  const human = options.json ? io.stderr : io.stdout;
  let warnedVersion = false;
  // The controller's warnings arrive mid-request; during a progress line they wait until the line is finished.
  let inProgress = false;
  const heldWarnings: string[] = [];
  const printWarning = (text: string) => io.stderr.write(`!    ${text}\n`);

  const makeClient = (baseUrl: string, token: string | undefined, sslVerify: boolean) =>
    new ApiClient({
      baseUrl,
      token,
      userAgent: `Deis Client ${CLI_VERSION}`,
      fetch: createTransport({ sslVerify }),
      onVersionMismatch: (server) => {
        if (warnedVersion || (server !== null && compatible(server))) return;
        warnedVersion = true;
        io.stderr.write(`!    WARNING: Client and server API versions do not match. Please consider upgrading.\n!    Client version: ${API_VERSION}\n!    Server version: ${server ?? '<unknown>'}\n`);
      },
      onWarning: (text) => (inProgress ? heldWarnings.push(text) : printWarning(text)),
    });

  const context: CommandContext = {
    io,
    term,
    json: options.json,
    say: (text = '') => human.write(`${text}\n`),
    write: (text) => human.write(text),
    emit: (value) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    warn: (text) => io.stderr.write(`${text}\n`),
    async progress(label, work, done) {
      human.write(label);
      const stop = options.json ? () => {} : startSpinner(human, term);
      let result;
      inProgress = true;
      try {
        result = await work();
      } catch (error) {
        stop();
        human.write('\n');
        throw error;
      } finally {
        inProgress = false;
      }
      stop();
      human.write(`${done ? done(result) : 'done'}\n`);
      for (const text of heldWarnings.splice(0)) printWarning(text);
      return result;
    },
    ask: (question) => ask(io.stdin, io.stderr, question),
    askSecret: (question) => askSecret(io.stdin, io.stderr, question),
    profilePath: () => profilePath(io.env, options.configFlag, io.cwd),
    async session() {
      const path = context.profilePath();
      const stored = readProfile(path);
      if (!stored || !stored.token) throw new NotLoggedInError();
      const profile = { ...stored, controller: io.env.DEIS_CONTROLLER_URL || stored.controller };
      if (!profile.controller) throw new NotLoggedInError(`${path} names no controller.`);
      return { profile, profilePath: path, client: makeClient(profile.controller, profile.token, profile.ssl_verify) };
    },
    anonymousClient: (controller, sslVerify, token) => makeClient(controller, token, sslVerify),
    async app(session, flag) {
      if (flag) return flag;
      const remotes = await listRemotes(io.cwd, io.env);
      const preferred = remotes.find((remote) => remote.name === 'deis') ?? remotes.find((remote) => isBuilderRemote(remote.url, session.profile.controller, io.env));
      const app = preferred ? appFromRemoteUrl(preferred.url) : null;
      if (app) return app;
      throw new CliError('No app given, and none found in a git remote named deis in this directory.', {
        hint: "Pass -a <app>, or run 'deis git:remote -a <app>' in the app's repository.",
      });
    },
    async appSession(values) {
      const session = await context.session();
      return { session, app: await context.app(session, stringOption(values, 'app')) };
    },
    async list<T>(session: Session, path: string, limit?: string) {
      const response = await session.client.request<Page<T>>('GET', path, { query: { limit: limit ?? session.profile.response_limit } });
      return response.data;
    },
  };
  return context;
}

/** The SDK's rule: majors equal and the server's minor not below ours, compared as strings as the Go SDK does. */
function compatible(server: string): boolean {
  const ours = API_VERSION.split('.');
  const theirs = server.split('.');
  if (theirs.length < 2 || ours.length < 2) return false;
  return theirs[0] === ours[0] && !(theirs[1]! < ours[1]!);
}

/** `(3 of 10)` after a list header when the page is shorter than the total, as the Deis CLI prints it. */
export function limitCount(shown: number, total: number): string {
  return shown < total ? ` (${shown} of ${total})` : '';
}
