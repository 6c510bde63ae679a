import { describe, expect, it } from 'vitest';
import type { Pod } from '@deis/sdk/types';
import type { CommandContext } from '../command-context.ts';
import { printProcesses } from './ps.ts';

describe('ps output', () => {
  it("prints Deis's line per process, with the restart count once a container was restarted", () => {
    const lines: string[] = [];
    const ctx = { say: (line: string) => lines.push(line) } as unknown as CommandContext;
    const pod = (name: string, state: Pod['state'], restarts?: number): Pod => ({ name, state, type: 'web', release: 'v2', started: '2026-01-01T00:00:00UTC', ...(restarts !== undefined ? { restarts } : {}) });
    printProcesses(ctx, 'demo', [pod('demo-web-123456789-abcde', 'crashed', 3), pod('demo-web-123456789-fghij', 'up', 0), pod('demo-web-123456789-klmno', 'up')]);
    expect(lines).toEqual([
      '=== demo Processes',
      '--- web:',
      'demo-web-123456789-abcde crashed (v2) (restarts 3)',
      'demo-web-123456789-fghij up (v2)',
      'demo-web-123456789-klmno up (v2)',
    ]);
  });
});
