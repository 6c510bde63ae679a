/**
 * Reading a certificate and its private key as a user uploads them (PEM): the facts Deis derives and shows (common
 * name, SANs, SHA-256 fingerprint, validity, issuer, subject), and the check that the key belongs to the certificate,
 * so the router is never given a pair that cannot serve TLS.
 * @module
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ValidationError } from '@deis/core/errors';

export interface CertificateFacts {
  commonName: string | null;
  /** DNS names of the subjectAltName extension. */
  san: string[];
  /** SHA-256 of the DER, colon hex, upper case (as pyOpenSSL's `digest('sha256')`). */
  fingerprint: string;
  starts: Date;
  expires: Date;
  /** `/C=US/O=…/CN=…`, OpenSSL's one-line form. */
  issuer: string;
  subject: string;
}

/** Node gives a distinguished name one `key=value` per line. */
function oneLine(name: string): string {
  return name === '' ? '' : `/${name.split('\n').join('/')}`;
}

function commonNameOf(subject: string): string | null {
  const line = subject.split('\n').find((part) => part.startsWith('CN='));
  return line === undefined ? null : line.slice(3);
}

function sanDnsNames(extension: string | undefined): string[] {
  if (!extension) return [];
  return extension
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}

function pemText(raw: unknown, field: string): string {
  if (raw === undefined || raw === null) throw ValidationError.field(field, 'This field is required.');
  if (typeof raw !== 'string') throw ValidationError.field(field, 'Not a valid string.');
  if (raw.trim() === '') throw ValidationError.field(field, 'This field may not be blank.');
  return raw;
}

function loadCertificate(text: string): X509Certificate {
  try {
    return new X509Certificate(text);
  } catch (error) {
    throw ValidationError.field('certificate', `Could not load certificate: ${(error as Error).message}`);
  }
}

function loadKey(text: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (error) {
    // The message names the decoder's failure, never the key's content.
    throw ValidationError.field('key', `Could not load private key: ${(error as Error).message}`);
  }
}

/**
 * @throws ValidationError on `certificate` or `key` (DRF field messages) for a missing or unreadable PEM, or a key that
 *   is not the certificate's.
 */
export function readCertificate(certificateRaw: unknown, keyRaw: unknown): CertificateFacts {
  const errors: Record<string, string[]> = {};
  let certificate: X509Certificate | undefined;
  let key: KeyObject | undefined;
  for (const [field, load] of [
    ['certificate', () => (certificate = loadCertificate(pemText(certificateRaw, 'certificate')))],
    ['key', () => (key = loadKey(pemText(keyRaw, 'key')))],
  ] as const) {
    try {
      load();
    } catch (error) {
      if (!(error instanceof ValidationError) || !error.fields) throw error;
      errors[field] = [...(error.fields[field] ?? [])];
    }
  }
  if (!certificate || !key) throw new ValidationError('Invalid certificate or key.', { fields: errors });
  if (!certificate.checkPrivateKey(key)) throw ValidationError.field('key', 'The private key does not match the certificate.');
  return {
    commonName: commonNameOf(certificate.subject),
    san: sanDnsNames(certificate.subjectAltName),
    fingerprint: certificate.fingerprint256,
    starts: new Date(certificate.validFrom),
    expires: new Date(certificate.validTo),
    issuer: oneLine(certificate.issuer),
    subject: oneLine(certificate.subject),
  };
}
