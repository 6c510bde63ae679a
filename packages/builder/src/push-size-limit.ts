/**
 * The most a push may send the builder, counted on the wire as git receives it (SSH channel or HTTP request body):
 * without it one tenant's push of a huge history fills the disk every app's repository and image lives on.
 * @module
 */
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/** The builder's default: 1 GiB, more than any app's source should need. */
export const DEFAULT_PUSH_SIZE_LIMIT_BYTES = 1024 * 1024 * 1024;

/** What the pusher reads when a push is over the limit. */
export function pushTooLargeMessage(limitBytes: number): string {
  const mib = limitBytes / (1024 * 1024);
  const size = Number.isInteger(mib) ? `${mib} MiB` : `${limitBytes} bytes`;
  return `Push refused: it is larger than ${size}, the most this builder accepts in one push. Remove large files from the history, or ask the operator to raise DEIS_PUSH_SIZE_LIMIT.`;
}

export class PushTooLargeError extends Error {
  constructor(limitBytes: number) {
    super(pushTooLargeMessage(limitBytes));
    this.name = 'PushTooLargeError';
  }
}

/** Passes a push's bytes through until there are more than `limitBytes`, then fails with PushTooLargeError. */
export class PushSizeCounter extends Transform {
  readonly #limit: number;
  #seen = 0;

  constructor(limitBytes: number) {
    super();
    this.#limit = limitBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) callback(new PushTooLargeError(this.#limit));
    else callback(null, chunk);
  }
}
