import { ValidationError } from '@deis/core/errors';
import { describe, expect, it } from 'vitest';
import { domainForLookup, isWithin, normalizeDomain } from './hostname.ts';

function messageOf(raw: unknown): string | undefined {
  try {
    normalizeDomain(raw);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).fields?.domain?.[0];
  }
}

describe('normalizeDomain', () => {
  it('keeps a plain name, lowercases it and strips exactly one trailing dot', () => {
    expect(normalizeDomain('www.example.com')).toBe('www.example.com');
    expect(normalizeDomain('WWW.Example.COM')).toBe('www.example.com');
    expect(normalizeDomain('example.com.')).toBe('example.com');
    expect(messageOf('example.com..')).toBe('Hostname does not look valid.');
  });

  it('turns an international name into punycode', () => {
    expect(normalizeDomain('Bücher.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('*.bücher.example')).toBe('*.xn--bcher-kva.example');
  });

  it('allows a wildcard only as the whole first label', () => {
    expect(normalizeDomain('*.example.com')).toBe('*.example.com');
    expect(messageOf('*')).toBe("Hostname can't only be a wildcard");
    expect(messageOf('*.')).toBe("Hostname can't only be a wildcard");
    for (const bad of ['www.*.example.com', 'w*.example.com', '**.example.com', '*example.com', 'example.*']) {
      expect(messageOf(bad), bad).toBe('Hostname does not look valid.');
    }
  });

  it('rejects what is not a DNS name', () => {
    for (const bad of ['ex ample.com', 'a..b.com', '.example.com', '-a.example.com', 'a-.example.com', 'a_b.example.com', 'example.123', '10.0.0.1', 'a/b.com', 'a:80.com', 'a?b.com', 'a#b.com', 'u@a.com', 'a%41.com', '[::1]', 'a\tb.com', 'a.com/', `${'a'.repeat(64)}.com`, 'x\ny.com']) {
      expect(messageOf(bad), bad).toBe('Hostname does not look valid.');
    }
  });

  it('limits the whole name to 253 characters', () => {
    const label = 'a'.repeat(50);
    const long = [label, label, label, label, label, 'com'].join('.');
    expect(long.length).toBe(258);
    expect(messageOf(long)).toBe('Hostname must be 253 characters or less.');
    const fits = [label, label, label, label, 'a'.repeat(45), 'com'].join('.');
    expect(fits.length).toBe(253);
    expect(normalizeDomain(fits)).toBe(fits);
  });

  it('requires a non-blank string', () => {
    expect(messageOf(undefined)).toBe('This field is required.');
    expect(messageOf('  ')).toBe('This field may not be blank.');
    expect(messageOf(42)).toBe('Not a valid string.');
  });

  it('accepts a bare name (an app\'s default domain)', () => {
    expect(normalizeDomain('myapp')).toBe('myapp');
  });
});

describe('domainForLookup', () => {
  it('normalizes like normalizeDomain and gives null instead of throwing', () => {
    expect(domainForLookup('Bücher.Example.')).toBe('xn--bcher-kva.example');
    expect(domainForLookup('not valid')).toBeNull();
  });
});

describe('isWithin', () => {
  it('matches the suffix itself and names under it, not names that merely end alike', () => {
    expect(isWithin('example.test', 'example.test')).toBe(true);
    expect(isWithin('a.example.test', 'example.test')).toBe(true);
    expect(isWithin('badexample.test', 'example.test')).toBe(false);
  });
});
