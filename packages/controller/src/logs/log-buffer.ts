/**
 * Each app's log: the last N lines its processes printed, in the Deis logger's line format (contract §6.6), kept in
 * memory for reads and followers, and in an append-only file per app (`<dir>/<app>.log`) so they outlive their
 * containers and the platform (ADR 0012). Appending costs an array push: the file is written in batches off the
 * request path, and trimmed by a rewrite once it holds twice N lines, so it never grows past that.
 *
 * Besides the lines, it keeps where the platform got to in each container's log (the scheduler's cursors), in
 * `<dir>/<app>.cursors.json`, so that after a restart the ingester resumes without repeating or losing lines.
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_LINES_PER_APP = 1_500;
/** Cursors of containers long gone are dropped, oldest first, beyond this many per app. */
const CURSORS_KEPT = 200;
const FLUSH_INTERVAL_MS = 100;

/** One line and when it was printed (ms), to merge it with the store's events. */
export interface TimedLine {
  at: number;
  text: string;
}

export type LineListener = (line: TimedLine) => void;

export interface AppLogBufferOptions {
  /** Where the files go; null keeps lines in memory only (tests). */
  dir: string | null;
  linesPerApp?: number;
}

interface AppLog {
  lines: TimedLine[];
  /** Lines in the file, written or pending. */
  fileLines: number;
  pending: TimedLine[];
  cursors: Map<string, string>;
  cursorsChanged: boolean;
}

/** `2016-09-01T12:00:00+00:00`, the logger's timestamp. */
export function logTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** App ids are `^[a-z0-9]+(-[a-z0-9]+)*$`; anything else never names a file. */
function safeName(appId: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(appId)) throw new Error(`not an app id: ${appId}`);
  return appId;
}

export class AppLogBuffer {
  readonly linesPerApp: number;
  readonly #dir: string | null;
  readonly #apps = new Map<string, AppLog>();
  readonly #listeners = new Map<string, Set<LineListener>>();
  readonly #forgetListeners = new Set<(appId: string) => void>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: AppLogBufferOptions) {
    this.#dir = options.dir;
    this.linesPerApp = options.linesPerApp ?? DEFAULT_LINES_PER_APP;
    if (this.#dir) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      this.#timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /**
   * Adds lines to an app's log as one of its processes printed them: `<time> <app>[<process>]: <line>` for each line
   * of `text`. `process` is e.g. `web.v3.x1y2z` for a container, `release.v3` for a release-phase run.
   */
  appendAppLog(appId: string, process: string, text: string, at: Date = new Date()): void {
    for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) this.append(appId, `${logTime(at)} ${appId}[${process}]: ${line}`, at.getTime());
  }

  /** Adds one line, already in the log format. */
  append(appId: string, text: string, at: number = Date.now(), source?: { container: string; cursor: string }): void {
    const log = this.#load(appId);
    const line = { at, text };
    log.lines.push(line);
    // Trimmed in steps, not per line: a splice per line would cost a copy of the whole buffer.
    if (log.lines.length > 2 * this.linesPerApp) log.lines.splice(0, log.lines.length - this.linesPerApp);
    if (this.#dir) {
      log.pending.push(line);
      log.fileLines += 1;
    }
    if (source) {
      log.cursors.delete(source.container);
      log.cursors.set(source.container, source.cursor);
      log.cursorsChanged = true;
    }
    const listeners = this.#listeners.get(appId);
    if (listeners) for (const listener of listeners) listener(line);
  }

  /** The newest `count` lines (at most linesPerApp), oldest first. */
  tail(appId: string, count: number): TimedLine[] {
    const lines = this.#load(appId).lines;
    return lines.slice(-Math.min(count, this.linesPerApp));
  }

  /** Where the platform got to in a container's log; undefined for one never read. */
  cursor(appId: string, container: string): string | undefined {
    return this.#load(appId).cursors.get(container);
  }

  /** Calls `listener` with each line appended to the app's log from now on; returns a function that stops it. */
  subscribe(appId: string, listener: LineListener): () => void {
    let listeners = this.#listeners.get(appId);
    if (!listeners) this.#listeners.set(appId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(appId) === listeners) this.#listeners.delete(appId);
    };
  }

  /** Drops an app's log (the app was destroyed): a new app of the same name starts with none. */
  forget(appId: string): void {
    this.#apps.delete(appId);
    this.#listeners.delete(appId);
    for (const listener of this.#forgetListeners) listener(appId);
    if (this.#dir) {
      rmSync(join(this.#dir, `${safeName(appId)}.log`), { force: true });
      rmSync(join(this.#dir, `${safeName(appId)}.cursors.json`), { force: true });
    }
  }

  /** Calls `listener` with the id of each app whose log is forgotten (its drains stop with it). */
  onForget(listener: (appId: string) => void): () => void {
    this.#forgetListeners.add(listener);
    return () => this.#forgetListeners.delete(listener);
  }

  /** Writes pending lines and cursors to the files. */
  flush(): void {
    if (!this.#dir) return;
    for (const [appId, log] of this.#apps) {
      try {
        this.#flushApp(appId, log);
      } catch {
        // A full or unwritable disk loses the file copy of these lines, not the app's log in memory; the next flush
        // tries again with what is pending then.
        log.pending = [];
      }
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #flushApp(appId: string, log: AppLog): void {
    const dir = this.#dir as string;
    const file = join(dir, `${safeName(appId)}.log`);
    if (log.fileLines > 2 * this.linesPerApp) {
      const kept = log.lines.slice(-this.linesPerApp);
      writeFileSync(`${file}.tmp`, serialize(kept), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      log.fileLines = kept.length;
      log.pending = [];
    } else if (log.pending.length > 0) {
      appendFileSync(file, serialize(log.pending), { mode: 0o600 });
      log.pending = [];
    }
    if (log.cursorsChanged) {
      while (log.cursors.size > CURSORS_KEPT) log.cursors.delete(log.cursors.keys().next().value as string);
      const cursorFile = join(dir, `${safeName(appId)}.cursors.json`);
      writeFileSync(`${cursorFile}.tmp`, JSON.stringify(Object.fromEntries(log.cursors)), { mode: 0o600 });
      renameSync(`${cursorFile}.tmp`, cursorFile);
      log.cursorsChanged = false;
    }
  }

  #load(appId: string): AppLog {
    let log = this.#apps.get(appId);
    if (log) return log;
    log = { lines: [], fileLines: 0, pending: [], cursors: new Map(), cursorsChanged: false };
    if (this.#dir) {
      const file = join(this.#dir, `${safeName(appId)}.log`);
      if (existsSync(file)) {
        const lines = parse(readFileSync(file, 'utf8'));
        log.fileLines = lines.length;
        log.lines = lines.slice(-this.linesPerApp);
      }
      const cursorFile = join(this.#dir, `${safeName(appId)}.cursors.json`);
      if (existsSync(cursorFile)) {
        try {
          for (const [container, cursor] of Object.entries(JSON.parse(readFileSync(cursorFile, 'utf8')) as Record<string, unknown>)) {
            if (typeof cursor === 'string') log.cursors.set(container, cursor);
          }
        } catch {
          // A torn cursor file: lines of live containers come again from their start, and nothing is lost.
        }
      }
    }
    this.#apps.set(appId, log);
    return log;
  }
}

/** One line per entry: `<ms> <text>`; a line's own newlines were split into lines before it got here. */
function serialize(lines: TimedLine[]): string {
  return lines.map((line) => `${line.at} ${line.text.replace(/\n/g, ' ')}\n`).join('');
}

function parse(content: string): TimedLine[] {
  const lines: TimedLine[] = [];
  for (const entry of content.split('\n')) {
    const space = entry.indexOf(' ');
    const at = Number(entry.slice(0, space));
    // A line torn by a crash mid-write has no time or a cut text; the time check drops the former.
    if (space > 0 && Number.isFinite(at)) lines.push({ at, text: entry.slice(space + 1) });
  }
  return lines;
}
