import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppLogBuffer } from './log-buffer.ts';

describe('the app log buffer', () => {
  const dirs: string[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), 'deis-logs-'));
    dirs.push(made);
    return made;
  };
  afterEach(() => {
    for (const made of dirs.splice(0)) rmSync(made, { recursive: true, force: true });
  });

  it('keeps the last N lines per app, in order, and tells subscribers of each new one', () => {
    const buffer = new AppLogBuffer({ dir: null, linesPerApp: 3 });
    const heard: string[] = [];
    const stop = buffer.subscribe('demo', (line) => heard.push(line.text));
    for (let i = 1; i <= 10; i++) buffer.append('demo', `line ${i}`, i);
    buffer.append('other', 'elsewhere');
    stop();
    buffer.append('demo', 'after stop', 11);
    expect(buffer.tail('demo', 100).map((line) => line.text)).toEqual(['line 9', 'line 10', 'after stop']);
    expect(buffer.tail('demo', 2).map((line) => line.text)).toEqual(['line 10', 'after stop']);
    expect(heard).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 1}`));
    expect(buffer.tail('nobody', 5)).toEqual([]);
  });

  it('formats appended process output in the Deis log format, a line per line of text', () => {
    const buffer = new AppLogBuffer({ dir: null });
    buffer.appendAppLog('demo', 'release.v3', 'one\ntwo\n', new Date('2026-11-28T12:00:00.250Z'));
    expect(buffer.tail('demo', 5)).toEqual([
      { at: Date.parse('2026-11-28T12:00:00.250Z'), text: '2026-11-28T12:00:00+00:00 demo[release.v3]: one' },
      { at: Date.parse('2026-11-28T12:00:00.250Z'), text: '2026-11-28T12:00:00+00:00 demo[release.v3]: two' },
    ]);
  });

  it('survives a restart with its lines and cursors, and keeps its file under twice N lines', () => {
    const where = dir();
    const first = new AppLogBuffer({ dir: where, linesPerApp: 10 });
    for (let i = 1; i <= 45; i++) {
      first.append('demo', `line ${i}`, i, { container: 'demo-web-1-aaaaa', cursor: String(i).padStart(4, '0') });
      if (i % 7 === 0) first.flush();
    }
    first.close();
    expect(readFileSync(join(where, 'demo.log'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(20);
    const second = new AppLogBuffer({ dir: where, linesPerApp: 10 });
    expect(second.tail('demo', 100).map((line) => line.text)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 36}`));
    expect(second.tail('demo', 1)[0]?.at).toBe(45);
    expect(second.cursor('demo', 'demo-web-1-aaaaa')).toBe('0045');
    expect(second.cursor('demo', 'demo-web-2-bbbbb')).toBeUndefined();
    second.forget('demo');
    second.close();
    expect(new AppLogBuffer({ dir: where }).tail('demo', 5)).toEqual([]);
  });

  it('never names a file after something that is not an app id', () => {
    const buffer = new AppLogBuffer({ dir: dir() });
    expect(() => buffer.append('../etc', 'x')).toThrow(/not an app id/);
    buffer.close();
  });
});
