import { describe, expect, it } from 'vitest';
import { checkAppName, generateAppName, RESERVED_APP_NAMES } from './app-names.ts';

describe('app names', () => {
  it('makes up names that pass the name rules', () => {
    const names = new Set(Array.from({ length: 500 }, () => generateAppName()));
    expect(names.size).toBeGreaterThan(100);
    for (const name of names) {
      expect(name).toMatch(/^[a-z]+-[a-z]+$/);
      expect(() => checkAppName(name)).not.toThrow();
    }
  });

  it('refuses every reserved name', () => {
    for (const name of RESERVED_APP_NAMES) expect(() => checkAppName(name)).toThrow(`${name} is a reserved name.`);
  });
});
