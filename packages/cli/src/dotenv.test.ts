import { describe, expect, it } from 'vitest';
import { DotenvError, formatDotenv, parseDotenv } from './dotenv.ts';

describe('.env files', () => {
  it('reads comments, blanks, export prefixes, quotes and CRLF', () => {
    expect(parseDotenv('# c\n\nA=1\r\nexport B="two words"\nC=\'x=y\'\nD=\n')).toEqual({ A: '1', B: 'two words', C: 'x=y', D: '' });
  });

  it('names the malformed line', () => {
    expect(() => parseDotenv('A=1\n  oops\n', 'my.env')).toThrow(new DotenvError("my.env line 2: '  oops' does not match the pattern 'KEY=value', e.g. MODE=test"));
    expect(() => parseDotenv('1A=x')).toThrow(DotenvError);
  });

  it('writes sorted lines that read back the same', () => {
    const values = { Z: 'last', A: 'multi\nline "quoted"', M: ' padded ' };
    const text = formatDotenv(values);
    expect(text.split('\n')[0]).toBe('A="multi\\nline \\"quoted\\""');
    expect(parseDotenv(text)).toEqual(values);
  });
});
