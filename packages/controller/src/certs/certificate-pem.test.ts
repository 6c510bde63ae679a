import { X509Certificate } from 'node:crypto';
import { ValidationError } from '@deis/core/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCertificate } from './certificate-pem.ts';
import { makeTestCertificate } from './test-certificates.ts';
import type { TestCertificate } from './test-certificates.ts';

function fieldsOf(run: () => unknown): Record<string, readonly string[]> | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).fields;
  }
  throw new Error('expected a ValidationError');
}

describe('readCertificate', () => {
  let withSan: TestCertificate;
  let other: TestCertificate;
  beforeAll(async () => {
    [withSan, other] = await Promise.all([
      makeTestCertificate({ subject: '/C=US/ST=CA/O=Deis Test/CN=www.example.com', san: ['www.example.com', '*.example.com'], days: 10 }),
      makeTestCertificate({ subject: '/O=No Common Name' }),
    ]);
  });

  it('derives common name, SANs, fingerprint, validity, issuer and subject', () => {
    const facts = readCertificate(withSan.certificate, withSan.key);
    const x509 = new X509Certificate(withSan.certificate);
    expect(facts.commonName).toBe('www.example.com');
    expect(facts.san).toEqual(['www.example.com', '*.example.com']);
    expect(facts.fingerprint).toBe(x509.fingerprint256);
    expect(facts.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(facts.subject).toBe('/C=US/ST=CA/O=Deis Test/CN=www.example.com');
    expect(facts.issuer).toBe(facts.subject);
    const days = (facts.expires.getTime() - facts.starts.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(10, 3);
    expect(Math.abs(facts.starts.getTime() - Date.now())).toBeLessThan(120_000);
  });

  it('gives null for a certificate without a common name, and no SANs when it has none', () => {
    const facts = readCertificate(other.certificate, other.key);
    expect(facts.commonName).toBeNull();
    expect(facts.san).toEqual([]);
    expect(facts.subject).toBe('/O=No Common Name');
  });

  it('refuses unreadable PEM with "Could not load …" on the right field, both at once', () => {
    const fields = fieldsOf(() => readCertificate('not a certificate', 'not a key'));
    expect(fields?.certificate?.[0]).toMatch(/^Could not load certificate: /);
    expect(fields?.key?.[0]).toMatch(/^Could not load private key: /);
    expect(fieldsOf(() => readCertificate(withSan.certificate, withSan.certificate))?.key?.[0]).toMatch(/^Could not load private key: /);
    expect(fieldsOf(() => readCertificate(undefined, withSan.key))).toEqual({ certificate: ['This field is required.'] });
  });

  it('refuses a key that is not the certificate\'s, without showing the key', () => {
    const fields = fieldsOf(() => readCertificate(withSan.certificate, other.key));
    expect(fields).toEqual({ key: ['The private key does not match the certificate.'] });
  });
});
