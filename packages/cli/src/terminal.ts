/**
 * What the CLI knows about where it writes: whether colour and spinners are wanted (a TTY, no NO_COLOR, no --json),
 * and the spinner itself, which draws only on a TTY so that piped output stays plain text.
 * @module
 */
import type { Writable } from 'node:stream';

export interface Terminal {
  /** stdout is a TTY and neither NO_COLOR nor --json asked for plain output. */
  fancy: boolean;
  bold(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function createTerminal(stdout: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv, json: boolean): Terminal {
  const fancy = Boolean(stdout.isTTY) && !('NO_COLOR' in env) && env.TERM !== 'dumb' && !json;
  const paint = (code: string) => (text: string) => (fancy ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { fancy, bold: paint('1'), red: paint('31'), yellow: paint('33'), cyan: paint('36') };
}

const FRAMES = ['|', '/', '-', '\\'];

/** Draws a turning bar after the text already written; returns the function that erases it. */
export function startSpinner(stdout: Writable, terminal: Terminal): () => void {
  if (!terminal.fancy) return () => {};
  let frame = 0;
  stdout.write(FRAMES[0]!);
  const timer = setInterval(() => {
    frame = (frame + 1) % FRAMES.length;
    stdout.write(`\b${FRAMES[frame]!}`);
  }, 100);
  return () => {
    clearInterval(timer);
    stdout.write('\b \b');
  };
}
