/**
 * Docker's multiplexed stream format (logs and attach of a container without a TTY): frames of an 8-byte header
 * (stream type, three zero bytes, big-endian payload length) and the payload. The engine splits frames wherever it
 * likes, and a chunk read from a socket can end in the middle of a header.
 * @module
 */
import type { FollowedLogLine, LogLine } from '../scheduler.ts';

export type StreamName = 'stdout' | 'stderr';

/** Feeds chunks in, calls `onFrame` with each whole frame's payload. */
export function createFrameParser(onFrame: (stream: StreamName, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      // 0 (stdin) never appears in output; treat anything but 2 as stdout.
      onFrame(pending[0] === 2 ? 'stderr' : 'stdout', pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  };
}

/**
 * The cursor of an engine timestamp (RFC 3339 with up to nine fraction digits): `<unix seconds>.<nine digits>`, which
 * sorts as text (for the next 250 years) and is what the engine's `since` parameter reads. Null when unreadable.
 */
export function cursorOfStamp(stamp: string): string | null {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
  if (!match) return null;
  const seconds = Date.parse(`${match[1]}${match[3]}`) / 1000;
  if (!Number.isFinite(seconds)) return null;
  return `${seconds}.${(match[2] ?? '').padEnd(9, '0')}`;
}

/** The engine's `since` for the lines after `cursor`: one nanosecond later, since the engine's `since` includes its own instant. */
export function sinceAfter(cursor: string): string {
  const [seconds = '0', nanos = '0'] = cursor.split('.');
  const next = BigInt(seconds) * 1_000_000_000n + BigInt(nanos.padEnd(9, '0')) + 1n;
  return `${next / 1_000_000_000n}.${String(next % 1_000_000_000n).padStart(9, '0')}`;
}

/** A piece of a line longer than this is given out as a line of its own, so a process that never ends a line cannot grow memory. */
const LONGEST_LINE = 64 * 1024;

/**
 * Lines from the frames of `docker logs --timestamps`, fed chunk by chunk: each frame is one entry,
 * `<RFC 3339 nano time> <text>`, ending in a newline unless the engine split a long line, whose pieces are joined again
 * here (the line takes the time of its first piece and the cursor of its last). `flush` gives out a last line left without a newline.
 */
export function createTimestampedLineParser(onLine: (line: FollowedLogLine) => void): { push(chunk: Buffer): void; flush(): void } {
  const partial: Partial<Record<StreamName, FollowedLogLine>> = {};
  // A busy app prints thousands of lines a second: the seconds of a stamp are parsed once per second, not per line.
  let knownPrefix = '';
  let knownSeconds = 0;
  const stampOf = (stampText: string): { time: Date; cursor: string } | null => {
    const prefix = stampText.slice(0, 19);
    const fraction = /^(?:\.(\d{1,9}))?Z$/.exec(stampText.slice(19));
    if (prefix !== knownPrefix || !fraction) {
      const cursor = cursorOfStamp(stampText);
      if (cursor === null) return null;
      if (fraction) {
        knownPrefix = prefix;
        knownSeconds = Number(cursor.slice(0, cursor.indexOf('.')));
      }
      const [seconds = '0', nanos = '0'] = cursor.split('.');
      return { time: new Date(Number(seconds) * 1000 + Math.floor(Number(nanos) / 1_000_000)), cursor };
    }
    const nanos = (fraction[1] ?? '').padEnd(9, '0');
    return { time: new Date(knownSeconds * 1000 + Math.floor(Number(nanos) / 1_000_000)), cursor: `${knownSeconds}.${nanos}` };
  };
  const push = createFrameParser((stream, payload) => {
    const entry = payload.toString('utf8');
    const space = entry.indexOf(' ');
    const stamp = space > 0 ? stampOf(entry.slice(0, space)) : null;
    const readable = stamp !== null;
    const time = stamp?.time ?? new Date();
    const cursor = stamp?.cursor ?? `${Math.floor(time.getTime() / 1000)}.${String((time.getTime() % 1000) * 1_000_000).padStart(9, '0')}`;
    const body = readable ? entry.slice(space + 1) : entry;
    const complete = body.endsWith('\n');
    const text = complete ? body.slice(0, -1).replace(/\r$/, '') : body;
    const open = partial[stream];
    const line = open ? { ...open, text: open.text + text, cursor } : { time, stream, text, cursor };
    if (complete || line.text.length >= LONGEST_LINE) {
      delete partial[stream];
      onLine(line);
    } else {
      partial[stream] = line;
    }
  });
  return {
    push,
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const line = partial[stream];
        delete partial[stream];
        if (line) onLine(line);
      }
    },
  };
}

/** The lines of a whole `docker logs --timestamps` answer (see createTimestampedLineParser). */
export function parseTimestampedLogs(buffer: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  const parser = createTimestampedLineParser(({ time, stream, text }) => lines.push({ time, stream, text }));
  parser.push(buffer);
  parser.flush();
  return lines;
}
