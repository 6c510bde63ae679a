import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installCrashPolicy } from './crash-policy.ts';

describe('the crash policy', () => {
  const setUp = () => {
    const target = new EventEmitter();
    const lines: string[] = [];
    const exits: number[] = [];
    let now = 0;
    installCrashPolicy(target, { log: (line) => lines.push(line), exit: (code) => exits.push(code), maxExceptions: 3, windowMs: 1_000, now: () => now });
    return { target, lines, exits, advance: (ms: number) => (now += ms) };
  };

  it('logs an unhandled rejection and an uncaught exception and keeps the process', () => {
    const { target, lines, exits } = setUp();
    target.emit('unhandledRejection', new Error('a handler forgot to await'));
    target.emit('uncaughtException', new RangeError('Invalid string length'));
    expect(exits).toEqual([]);
    expect(lines[0]).toMatch(/^an unhandled promise rejection \(kept serving\): Error: a handler forgot to await/);
    expect(lines[1]).toMatch(/^an uncaught exception \(kept serving\): RangeError: Invalid string length/);
  });

  it('ends the process for the supervisor after a burst of uncaught exceptions, not after spread-out ones', () => {
    const { target, lines, exits, advance } = setUp();
    for (let i = 0; i < 5; i++) {
      target.emit('uncaughtException', new Error(`slow ${i}`));
      advance(600);
    }
    expect(exits).toEqual([]);
    advance(1_000);
    for (let i = 0; i < 3; i++) target.emit('uncaughtException', new Error(`burst ${i}`));
    expect(exits).toEqual([1]);
    expect(lines.at(-1)).toMatch(/^3 uncaught exceptions within 1 s, the last: Error: burst 2/);
  });
});
