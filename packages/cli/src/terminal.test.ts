import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTerminal, startSpinner } from './terminal.ts';

function stream(isTTY: boolean): PassThrough & { isTTY?: boolean } {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean };
  out.isTTY = isTTY;
  return out;
}

describe('terminal', () => {
  it('is fancy only on a TTY without NO_COLOR, TERM=dumb or --json', () => {
    expect(createTerminal(stream(true), {}, false).fancy).toBe(true);
    expect(createTerminal(stream(false), {}, false).fancy).toBe(false);
    expect(createTerminal(stream(true), { NO_COLOR: '' }, false).fancy).toBe(false);
    expect(createTerminal(stream(true), { TERM: 'dumb' }, false).fancy).toBe(false);
    expect(createTerminal(stream(true), {}, true).fancy).toBe(false);
    expect(createTerminal(stream(true), {}, false).red('x')).toBe('\u001b[31mx\u001b[0m');
    expect(createTerminal(stream(false), {}, false).red('x')).toBe('x');
  });

  it('draws a spinner only when fancy', () => {
    const piped = stream(false);
    startSpinner(piped, createTerminal(piped, {}, false))();
    expect(piped.read()).toBeNull();
    const tty = stream(true);
    startSpinner(tty, createTerminal(tty, {}, false))();
    expect(String(tty.read())).toBe('|\b \b');
  });
});
