import { ValidationError } from '@deis/core/errors';
import { describe, expect, it } from 'vitest';
import { INVALID_BASE64, md5Fingerprint, parsePublicKey } from './public-key.ts';
import { DSA_KEY_LINE, ECDSA_P256_KEY, ECDSA_P384_KEY, ECDSA_P521_KEY, ED25519_KEY, RSA_KEY, RSA_KEY_2 } from './sample-keys.ts';

function fieldErrorOf(line: string): Record<string, readonly string[]> | undefined {
  try {
    parsePublicKey(line);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).fields;
  }
  throw new Error(`expected "${line}" to be refused`);
}

/** Re-encodes a key line with its blob changed by `edit`. */
function withBlob(line: string, edit: (blob: Buffer) => Buffer): string {
  const [type, encoded] = line.split(' ');
  return `${type} ${edit(Buffer.from(encoded!, 'base64')).toString('base64')}`;
}

describe('parsePublicKey', () => {
  it.each([
    ['ssh-rsa 2048', RSA_KEY, 'ssh-rsa'],
    ['ssh-rsa 3072', RSA_KEY_2, 'ssh-rsa'],
    ['ssh-ed25519', ED25519_KEY, 'ssh-ed25519'],
    ['ecdsa nistp256', ECDSA_P256_KEY, 'ecdsa-sha2-nistp256'],
    ['ecdsa nistp384', ECDSA_P384_KEY, 'ecdsa-sha2-nistp384'],
    ['ecdsa nistp521', ECDSA_P521_KEY, 'ecdsa-sha2-nistp521'],
  ])('parses %s and gives the fingerprint ssh-keygen gives', (_name, sample, type) => {
    const key = parsePublicKey(sample.public);
    expect(key.type).toBe(type);
    expect(key.fingerprint).toBe(sample.fingerprint);
    expect(key.comment).toBe(sample.public.split(' ').slice(2).join(' '));
  });

  it('accepts surrounding whitespace and a missing comment', () => {
    const [type, blob] = ED25519_KEY.public.split(' ');
    const key = parsePublicKey(`  ${type} ${blob}\n`);
    expect(key.fingerprint).toBe(ED25519_KEY.fingerprint);
    expect(key.comment).toBe('');
  });

  it('refuses what is not base64 with the contract message', () => {
    for (const line of ['ssh-rsa foo_bar', 'ssh-rsa', '', 'ssh-rsa AAAA*AAA', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJaF!']) {
      expect(fieldErrorOf(line)).toEqual({ public: [INVALID_BASE64] });
    }
  });

  it('refuses unsupported key types', () => {
    expect(fieldErrorOf(DSA_KEY_LINE)?.public?.[0]).toMatch(/^Key type "ssh-dss" is not supported/);
  });

  it('refuses a blob that is not the key it claims to be', () => {
    const invalid = 'Key is not a valid';
    // An ed25519 blob labelled ssh-rsa.
    expect(fieldErrorOf(`ssh-rsa ${ED25519_KEY.public.split(' ')[1]}`)?.public?.[0]).toBe(`${invalid} ssh-rsa public key`);
    // Truncated, padded with trailing bytes, or with a short ed25519 key.
    expect(fieldErrorOf(withBlob(RSA_KEY.public, (b) => b.subarray(0, b.length - 10)))?.public?.[0]).toBe(`${invalid} ssh-rsa public key`);
    expect(fieldErrorOf(withBlob(ED25519_KEY.public, (b) => Buffer.concat([b, Buffer.from([0, 0, 0, 0])])))?.public?.[0]).toBe(`${invalid} ssh-ed25519 public key`);
    expect(fieldErrorOf(withBlob(ED25519_KEY.public, (b) => Buffer.concat([b.subarray(0, 15), Buffer.from([0, 0, 0, 31]), b.subarray(19, 50)])))?.public?.[0]).toBe(
      `${invalid} ssh-ed25519 public key`,
    );
    // A point that is not on the curve: flip a byte of y.
    expect(
      fieldErrorOf(
        withBlob(ECDSA_P256_KEY.public, (b) => {
          const copy = Buffer.from(b);
          copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
          return copy;
        }),
      )?.public?.[0],
    ).toBe(`${invalid} ecdsa-sha2-nistp256 public key`);
    // A nistp256 blob labelled nistp384.
    expect(fieldErrorOf(`ecdsa-sha2-nistp384 ${ECDSA_P256_KEY.public.split(' ')[1]}`)?.public?.[0]).toBe(`${invalid} ecdsa-sha2-nistp384 public key`);
  });

  it('formats the MD5 fingerprint in lower-case colon hex', () => {
    expect(md5Fingerprint(Buffer.from(''))).toBe('d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e');
  });
});
