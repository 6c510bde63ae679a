import { describe, expect, it } from 'vitest';
import { ApiClient, warningTexts } from './client.ts';

describe('HTTP Warning headers', () => {
  it('reads the quoted texts of one or more warnings, unescaped', () => {
    expect(warningTexts('199 deis "v3 is released, but its new containers are not ready yet"')).toEqual(['v3 is released, but its new containers are not ready yet']);
    expect(warningTexts('199 deis "say \\"hi\\" \\\\ bye", 299 - "second"')).toEqual(['say "hi" \\ bye', 'second']);
    expect(warningTexts('garbage')).toEqual([]);
  });

  it('hands each warning of a response to onWarning', async () => {
    const seen: string[] = [];
    const client = new ApiClient({
      baseUrl: 'http://deis.localhost',
      onWarning: (text) => seen.push(text),
      fetch: async () => new Response('{}', { status: 201, headers: { warning: '199 deis "not ready yet"', 'deis_api_version': '2.3' } }),
    });
    await client.request('POST', '/v2/apps/a/config/', { body: {} });
    expect(seen).toEqual(['not ready yet']);
  });
});
