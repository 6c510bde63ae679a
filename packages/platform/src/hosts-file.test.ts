import { describe, expect, it } from 'vitest';
import { withPlatformHosts } from './hosts-file.ts';

describe('withPlatformHosts', () => {
  const base = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n';

  it('appends one managed block and keeps every other line', () => {
    const text = withPlatformHosts(base, ['deis.localhost', 'deis-builder.localhost']);
    expect(text).toBe(`${base}# BEGIN deis platform (managed by ./platform up)\n127.0.0.1 deis.localhost deis-builder.localhost\n# END deis platform\n`);
  });

  it('is idempotent and replaces an existing block rather than adding a second', () => {
    const once = withPlatformHosts(base, ['deis.localhost']);
    expect(withPlatformHosts(once, ['deis.localhost'])).toBe(once);
    const changed = withPlatformHosts(once, ['deis.example.test']);
    expect(changed.match(/BEGIN deis platform/g)).toHaveLength(1);
    expect(changed).toContain('127.0.0.1 deis.example.test\n');
    expect(changed).not.toContain('deis.localhost');
  });

  it('removes the block when given no names', () => {
    expect(withPlatformHosts(withPlatformHosts(base, ['deis.localhost']), [])).toBe(base);
  });
});
