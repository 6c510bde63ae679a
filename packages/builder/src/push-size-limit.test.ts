import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { PushSizeCounter, PushTooLargeError, pushTooLargeMessage } from './push-size-limit.ts';

async function pass(chunks: number[], limit: number): Promise<number> {
  let received = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      callback();
    },
  });
  await pipeline(Readable.from(chunks.map((size) => Buffer.alloc(size))), new PushSizeCounter(limit), sink);
  return received;
}

describe('the push size limit', () => {
  it('passes a push up to the limit and fails one byte over it', async () => {
    expect(await pass([400, 600], 1000)).toBe(1000);
    await expect(pass([400, 601], 1000)).rejects.toBeInstanceOf(PushTooLargeError);
  });

  it('tells the pusher the limit and the setting that raises it', () => {
    expect(pushTooLargeMessage(1024 * 1024 * 1024)).toBe(
      'Push refused: it is larger than 1024 MiB, the most this builder accepts in one push. Remove large files from the history, or ask the operator to raise DEIS_PUSH_SIZE_LIMIT.',
    );
  });
});
