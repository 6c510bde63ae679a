import { describe, expect, it } from 'vitest';
import { droppedLine, OutputTail } from './output-tail.ts';

describe('OutputTail', () => {
  it('keeps everything under the limit', () => {
    const tail = new OutputTail(100);
    tail.push('hello\n');
    tail.push('world\n');
    expect(tail.text()).toBe('hello\nworld\n');
    expect(tail.droppedBytes).toBe(0);
  });

  it('keeps only the last bytes of endless output, saying how much it dropped', () => {
    const tail = new OutputTail(1024);
    for (let i = 0; i < 100_000; i++) tail.push('y\n');
    const text = tail.text();
    expect(text.startsWith(droppedLine(200_000 - 1024))).toBe(true);
    expect(text.slice(droppedLine(200_000 - 1024).length)).toBe('y\n'.repeat(512));
    expect(tail.seenBytes).toBe(200_000);
  });

  it('never starts inside a multi-byte character', () => {
    const tail = new OutputTail(5);
    tail.push('ééééé');
    expect(tail.text()).toBe(`${droppedLine(6)}éé`);
  });
});
