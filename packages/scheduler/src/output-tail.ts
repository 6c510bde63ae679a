/**
 * The bounded tail of a one-off run's output (`RunOptions.maxOutputBytes`): only the last bytes are kept, and the
 * result opens with a line saying how many were dropped. Every backend keeps its run output here, so a command that
 * prints without end (`yes`) costs a fixed amount of memory however long it runs.
 * @module
 */

/** The line a truncated output opens with. */
export function droppedLine(bytes: number): string {
  return `[… ${bytes} bytes of earlier output dropped …]\n`;
}

export class OutputTail {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  /** @param limit bytes kept; Infinity keeps everything */
  constructor(limit = Infinity) {
    this.#limit = limit;
  }

  /** Bytes seen so far, kept or dropped. */
  get seenBytes(): number {
    return this.#kept + this.#dropped;
  }

  get droppedBytes(): number {
    return this.#dropped;
  }

  push(text: string): void {
    if (text === '') return;
    const chunk = Buffer.from(text, 'utf8');
    this.#chunks.push(chunk);
    this.#kept += chunk.length;
    // Trimmed only once the excess is as large as the limit, so trimming costs O(1) per byte however small the writes.
    if (this.#kept > this.#limit * 2 || (this.#limit < Infinity && this.#chunks.length > 4096)) this.#trim();
  }

  #trim(): void {
    if (this.#kept <= this.#limit) return;
    const joined = Buffer.concat(this.#chunks);
    let start = joined.length - this.#limit;
    // Never begin inside a UTF-8 character: skip its continuation bytes.
    while (start < joined.length && (joined[start]! & 0xc0) === 0x80) start++;
    this.#dropped += start;
    const kept = joined.subarray(start);
    this.#chunks = [Buffer.from(kept)];
    this.#kept = kept.length;
  }

  /** What was kept, after the dropped line when anything was dropped. */
  text(): string {
    this.#trim();
    const kept = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped > 0 ? droppedLine(this.#dropped) + kept : kept;
  }
}
