/**
 * `GET /v2/apps/{app}/logs?follow=true`, our extension: the app's recent lines, then each new line as it is appended
 * (containers' output and the controller's events), over one chunked `text/plain` response that stays open until the
 * client leaves. `deis logs -f` reads it instead of polling. The router passes it through unbuffered (its controller
 * server has `proxy_buffering off`, and the answer says `X-Accel-Buffering: no` to any other nginx on the way).
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { onAppEvent } from '../events/event-log.ts';
import { appLogLines } from './app-logs.ts';
import type { TimedLine } from './log-buffer.ts';

/** What a follower asks for besides the line count: only lines of one process type, or of one release (`v3`). */
export interface LogFilter {
  type?: string;
  release?: string;
}

/** A slow reader gets no more than this held for it; lines beyond are skipped, and it is told how many. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** Keeps idle proxies (nginx's 60 s read timeout) from closing a quiet stream; clients skip empty lines. */
const HEARTBEAT_MS = 20_000;

/** The filter from `?type=` and `?release=`; values that are not a type or a version are refused as no match. */
export function logFilterOf(query: { type?: unknown; release?: unknown }): LogFilter {
  const filter: LogFilter = {};
  if (typeof query.type === 'string' && query.type !== '') filter.type = query.type;
  if (typeof query.release === 'string' && query.release !== '') filter.release = /^\d+$/.test(query.release) ? `v${query.release}` : query.release;
  return filter;
}

/** Whether a line passes: with a filter, only container lines whose `[type.vN.pod]` tag matches (no events). */
export function lineMatches(appId: string, text: string, filter: LogFilter): boolean {
  if (filter.type === undefined && filter.release === undefined) return true;
  // `<time> <app>[<type>.<vN>.<pod>]: …`: the tag right after the time, never one quoted in a message.
  const start = text.indexOf(' ') + 1;
  if (start === 0 || !text.startsWith(`${appId}[`, start)) return false;
  const tag = text.slice(start + appId.length + 1, text.indexOf(']', start));
  const [type, release] = tag.split('.');
  return (filter.type === undefined || type === filter.type) && (filter.release === undefined || release === filter.release);
}

/** Streams of this controller still open, ended when it closes so its close does not wait for clients. */
export type OpenStreams = Set<() => void>;

export async function streamAppLog(
  deps: ControllerDeps,
  app: { uuid: string; id: string },
  count: number,
  filter: LogFilter,
  request: FastifyRequest,
  reply: FastifyReply,
  open: OpenStreams,
): Promise<void> {
  // Subscribed before the recent lines are read, so nothing falls between them; an event seen in both is shown once.
  const early: TimedLine[] = [];
  let live: ((line: TimedLine) => void) | null = null;
  const take = (line: TimedLine) => (live ? live(line) : early.push(line));
  const stopLines = deps.logs.subscribe(app.id, take);
  const stopEvents = onAppEvent(app.uuid, take);
  let recent: string[];
  try {
    recent = await appLogLines(deps, app, count);
  } catch (error) {
    stopLines();
    stopEvents();
    throw error;
  }
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  // The client learns at once that the stream is open, even when nothing matches yet.
  raw.flushHeaders();
  let skipped = 0;
  const write = (text: string) => {
    if (!lineMatches(app.id, text, filter)) return;
    if (raw.writableLength > MAX_PENDING_BYTES) {
      skipped += 1;
      return;
    }
    if (skipped > 0) {
      raw.write(`(${skipped} lines skipped: the client read too slowly)\n`);
      skipped = 0;
    }
    raw.write(`${text}\n`);
  };
  const shown = new Set(recent);
  for (const text of recent) write(text);
  for (const line of early) if (!shown.has(line.text)) write(line.text);
  live = (line) => write(line.text);
  const heartbeat = setInterval(() => raw.write('\n'), HEARTBEAT_MS);
  const close = () => {
    if (!open.delete(close)) return;
    clearInterval(heartbeat);
    stopLines();
    stopEvents();
    raw.end();
  };
  open.add(close);
  request.raw.once('close', close);
  raw.once('close', close);
}
