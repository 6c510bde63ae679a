import { describe, expect, it } from 'vitest';
import { createFrameParser, parseTimestampedLogs } from './log-frames.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('docker log frames', () => {
  it('parses frames split anywhere, even inside a header', () => {
    const all = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err ünï\n'), frame(1, '')]);
    for (let cut = 0; cut <= all.length; cut++) {
      const seen: string[] = [];
      const parse = createFrameParser((stream, payload) => seen.push(`${stream}:${payload.toString()}`));
      parse(all.subarray(0, cut));
      parse(all.subarray(cut));
      expect(seen).toEqual(['stdout:out one\n', 'stderr:err ünï\n', 'stdout:']);
    }
  });

  it('turns timestamped entries into lines, joining a long line the engine split', () => {
    const lines = parseTimestampedLogs(Buffer.concat([
      frame(1, '2026-11-26T10:21:04.123456789Z starting\n'),
      frame(2, '2026-11-26T10:21:05.000000001Z fatal: boom\r\n'),
      frame(1, '2026-11-26T10:21:06.5Z part one, '),
      frame(1, '2026-11-26T10:21:06.6Z part two\n'),
      frame(1, '2026-11-26T10:21:07Z no newline at exit'),
    ]));
    expect(lines).toEqual([
      { time: new Date('2026-11-26T10:21:04.123Z'), stream: 'stdout', text: 'starting' },
      { time: new Date('2026-11-26T10:21:05.000Z'), stream: 'stderr', text: 'fatal: boom' },
      { time: new Date('2026-11-26T10:21:06.500Z'), stream: 'stdout', text: 'part one, part two' },
      { time: new Date('2026-11-26T10:21:07.000Z'), stream: 'stdout', text: 'no newline at exit' },
    ]);
  });
});
