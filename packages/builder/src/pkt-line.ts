/**
 * Git's pkt-line framing, for the few messages the builder itself sends in git's protocol (the `ERR` refusal).
 * @module
 */

export const FLUSH_PKT = '0000';

/** One pkt-line: four hex digits of the total length, then the payload. */
export function pktLine(payload: string): string {
  const length = Buffer.byteLength(payload) + 4;
  return length.toString(16).padStart(4, '0') + payload;
}

/** A protocol error git clients print as `fatal: remote error: <message>`. */
export function errPktLine(message: string): string {
  return pktLine(`ERR ${message}\n`);
}
