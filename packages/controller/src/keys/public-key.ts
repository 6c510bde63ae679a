/**
 * SSH public keys as users upload them (`ssh-ed25519 AAAA… comment`): the blob is decoded and its SSH wire fields
 * are checked and loaded as a real key (so a truncated or doctored blob is refused, not stored), and the fingerprint
 * is the MD5 of the blob in colon hex, as `ssh-keygen -l -E md5` and Deis show it.
 * @module
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { ValidationError } from '@deis/core/errors';

export const SUPPORTED_KEY_TYPES = ['ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const;
export type KeyType = (typeof SUPPORTED_KEY_TYPES)[number];

export interface PublicKey {
  type: KeyType;
  /** The decoded key blob (SSH wire format). */
  blob: Buffer;
  comment: string;
  /** `54:6d:da:…`, 16 bytes of MD5 in lower-case colon hex. */
  fingerprint: string;
}

/** The contract's message for anything that is not a base64 blob; the Deis SDK matches on it. */
export const INVALID_BASE64 = 'Key contains invalid base64 chars';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const CURVES: Record<string, { crv: string; size: number }> = {
  nistp256: { crv: 'P-256', size: 32 },
  nistp384: { crv: 'P-384', size: 48 },
  nistp521: { crv: 'P-521', size: 66 },
};

class BlobReader {
  private offset = 0;
  constructor(private readonly blob: Buffer) {}

  /** An SSH `string`: a big-endian uint32 length, then that many bytes. */
  bytes(): Buffer {
    if (this.offset + 4 > this.blob.length) throw new Error('truncated');
    const length = this.blob.readUInt32BE(this.offset);
    this.offset += 4;
    if (length > this.blob.length - this.offset) throw new Error('truncated');
    const value = this.blob.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.bytes().toString('latin1');
  }

  /** An SSH `mpint` as unsigned big-endian bytes without leading zeros; negative numbers are refused. */
  positiveInteger(): Buffer {
    const raw = this.bytes();
    if (raw.length === 0 || (raw[0]! & 0x80) !== 0) throw new Error('not a positive integer');
    let start = 0;
    while (start < raw.length - 1 && raw[start] === 0) start += 1;
    return raw.subarray(start);
  }

  end(): void {
    if (this.offset !== this.blob.length) throw new Error('trailing data');
  }
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** The JWK of the blob's key material; loading it with node:crypto is the proof that it is a key. */
function jwkOf(type: KeyType, reader: BlobReader): JsonWebKey {
  if (type === 'ssh-rsa') {
    const e = reader.positiveInteger();
    const n = reader.positiveInteger();
    reader.end();
    if (n.length * 8 < 1024) throw new Error('RSA keys must have at least 1024 bits');
    return { kty: 'RSA', e: base64url(e), n: base64url(n) };
  }
  if (type === 'ssh-ed25519') {
    const key = reader.bytes();
    reader.end();
    if (key.length !== 32) throw new Error('wrong length');
    return { kty: 'OKP', crv: 'Ed25519', x: base64url(key) };
  }
  const curveName = type.slice('ecdsa-sha2-'.length);
  const curve = CURVES[curveName]!;
  if (reader.text() !== curveName) throw new Error('curve does not match the key type');
  const point = reader.bytes();
  reader.end();
  // Only uncompressed points (0x04 ‖ x ‖ y): what OpenSSH writes.
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) throw new Error('not an uncompressed point');
  return { kty: 'EC', crv: curve.crv, x: base64url(point.subarray(1, 1 + curve.size)), y: base64url(point.subarray(1 + curve.size)) };
}

export function md5Fingerprint(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/**
 * Parses one public key line. Throws a ValidationError on the `public` field, with the contract's message for a
 * blob that is not base64.
 */
export function parsePublicKey(line: string): PublicKey {
  const [type = '', encoded = '', ...commentWords] = line.trim().split(/\s+/);
  if (encoded === '' || encoded.length % 4 !== 0 || !BASE64.test(encoded)) throw ValidationError.field('public', INVALID_BASE64);
  if (!(SUPPORTED_KEY_TYPES as readonly string[]).includes(type)) {
    throw ValidationError.field('public', `Key type "${type}" is not supported: use ${SUPPORTED_KEY_TYPES.join(', ')}`);
  }
  const keyType = type as KeyType;
  const blob = Buffer.from(encoded, 'base64');
  try {
    const reader = new BlobReader(blob);
    if (reader.text() !== keyType) throw new Error('the blob names another key type');
    createPublicKey({ key: jwkOf(keyType, reader), format: 'jwk' });
  } catch {
    throw ValidationError.field('public', `Key is not a valid ${keyType} public key`);
  }
  return { type: keyType, blob, comment: commentWords.join(' '), fingerprint: md5Fingerprint(blob) };
}
