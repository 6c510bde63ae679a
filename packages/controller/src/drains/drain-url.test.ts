import { describe, expect, it } from 'vitest';
import { ValidationError } from '@deis/core/errors';
import { maskDrainUrl, parseDrainUrl } from './drain-url.ts';

describe('drain URLs', () => {
  it('takes syslog, syslog over TLS and https, and refuses the rest', () => {
    expect(parseDrainUrl('syslog://logs.example.com:514').kind).toBe('syslog');
    expect(parseDrainUrl('syslog+tls://logs.example.com:6514').kind).toBe('syslog+tls');
    expect(parseDrainUrl('https://user:pw@logs.example.com/drain?token=x').kind).toBe('https');
    for (const bad of ['', 'syslog://host', 'http://logs.example.com/', 'ftp://x:1', 'not a url', 42]) {
      expect(() => parseDrainUrl(bad)).toThrow(ValidationError);
    }
  });

  it('never shows user info or query values', () => {
    expect(maskDrainUrl('https://user:secret@logs.example.com/drain?token=abc&x=1')).toBe('https://***@logs.example.com/drain?token=***&x=***');
    expect(maskDrainUrl('syslog+tls://token@logs.example.com:6514')).toBe('syslog+tls://***@logs.example.com:6514');
    expect(maskDrainUrl('syslog://logs.example.com:514')).toBe('syslog://logs.example.com:514');
    expect(maskDrainUrl('https://logs.example.com/')).toBe('https://logs.example.com/');
  });
});
