/**
 * The wire protocol of interactive one-off runs (docs/runs.md), an extension of the Deis v2 API: `GET
 * /v2/apps/{app}/run/attach` upgraded to a WebSocket. Binary messages carry terminal bytes (keystrokes to the
 * container, its output to the client); text messages carry the JSON control messages below. A failed run closes the
 * socket with `4000 + <HTTP status>` after an `error` message. `POST /v2/apps/{app}/run/detached` starts a run
 * without a terminal whose output goes to the app's logs.
 * @module
 */

/** The path of the WebSocket endpoint of an app. */
export function attachPath(app: string): string {
  return `/v2/apps/${encodeURIComponent(app)}/run/attach`;
}

/** The path that starts a detached run of an app. */
export function detachedRunPath(app: string): string {
  return `/v2/apps/${encodeURIComponent(app)}/run/detached`;
}

/** The client's first message: what to run, on a terminal of which size and type. */
export interface StartMessage {
  type: 'start';
  command: string;
  columns: number;
  rows: number;
  /** The client's `TERM`, given to the process so that full-screen programs draw for the right terminal. */
  term?: string;
}

/** The client's terminal changed size. */
export interface ResizeMessage {
  type: 'resize';
  columns: number;
  rows: number;
}

export type ClientMessage = StartMessage | ResizeMessage;

/** The container runs; its name is the run's (`<app>-run-<suffix>`). */
export interface StartedMessage {
  type: 'started';
  name: string;
}

/** The process ended with this code; the server closes the socket (1000) after it. */
export interface ExitMessage {
  type: 'exit';
  code: number;
}

/** The run could not start or was stopped; `status` is what the HTTP API would have answered. */
export interface ErrorMessage {
  type: 'error';
  status: number;
  detail: string;
}

export type ServerMessage = StartedMessage | ExitMessage | ErrorMessage;

/** The close code of a run that failed with an HTTP-like status. */
export function errorCloseCode(status: number): number {
  return 4000 + status;
}

/** The answer of `POST /v2/apps/{app}/run/detached`. */
export interface DetachedRun {
  name: string;
}
