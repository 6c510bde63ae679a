import { describe, expect, it } from 'vitest';
import { createFrameParser, createTimestampedLineParser, cursorOfStamp, parseTimestampedLogs, sinceAfter } from './log-frames.ts';

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

  it('gives each followed line a cursor that sorts as text, and the engine\'s since for the lines after it', () => {
    expect(cursorOfStamp('2026-11-26T10:21:04.123456789Z')).toBe('1795688464.123456789');
    expect(cursorOfStamp('2026-11-26T10:21:04.5Z')).toBe('1795688464.500000000');
    expect(cursorOfStamp('2026-11-26T10:21:04Z')).toBe('1795688464.000000000');
    expect(cursorOfStamp('not a time')).toBeNull();
    expect(sinceAfter('1795688464.123456789')).toBe('1795688464.123456790');
    expect(sinceAfter('1795688464.999999999')).toBe('1795688465.000000000');
    expect('1795688464.500000000' > '1795688464.123456789').toBe(true);
  });

  it('streams lines as their frames arrive, a long line once it is whole', () => {
    const seen: string[] = [];
    const parser = createTimestampedLineParser((line) => seen.push(`${line.cursor} ${line.text}`));
    parser.push(frame(1, '2026-11-26T10:21:04.1Z one\n'));
    expect(seen).toEqual(['1795688464.100000000 one']);
    parser.push(frame(1, '2026-11-26T10:21:04.2Z half, '));
    expect(seen).toHaveLength(1);
    parser.push(frame(1, '2026-11-26T10:21:04.3Z whole\n'));
    parser.push(frame(2, '2026-11-26T10:21:04.4Z last'));
    parser.flush();
    expect(seen).toEqual(['1795688464.100000000 one', '1795688464.300000000 half, whole', '1795688464.400000000 last']);
  });
});
