/**
 * Docker's multiplexed stream format (logs and attach of a container without a TTY): frames of an 8-byte header
 * (stream type, three zero bytes, big-endian payload length) and the payload. The engine splits frames wherever it
 * likes, and a chunk read from a socket can end in the middle of a header.
 * @module
 */
import type { LogLine } from '../scheduler.ts';

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
 * Log lines from the frames of `docker logs --timestamps`: each frame is one entry, `<RFC 3339 nano time> <text>`,
 * ending in a newline unless the engine split a long line, whose pieces are joined again here.
 */
export function parseTimestampedLogs(buffer: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  const partial: Partial<Record<StreamName, LogLine>> = {};
  const parse = createFrameParser((stream, payload) => {
    const entry = payload.toString('utf8');
    const space = entry.indexOf(' ');
    const stamp = space > 0 ? new Date(entry.slice(0, space)) : new Date(Number.NaN);
    const time = Number.isNaN(stamp.getTime()) ? new Date() : stamp;
    const body = Number.isNaN(stamp.getTime()) ? entry : entry.slice(space + 1);
    const complete = body.endsWith('\n');
    const text = complete ? body.slice(0, -1).replace(/\r$/, '') : body;
    const open = partial[stream];
    const line = open ? { ...open, text: open.text + text } : { time, stream, text };
    if (complete) {
      lines.push(line);
      delete partial[stream];
    } else {
      partial[stream] = line;
    }
  });
  parse(buffer);
  for (const line of Object.values(partial)) if (line) lines.push(line);
  return lines;
}
