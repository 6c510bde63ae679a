/**
 * Reading answers from the user: a line from stdin (a TTY or a pipe, so scripts and tests can answer), and a password
 * read without echo on a TTY.
 * @module
 */
import type { Readable, Writable } from 'node:stream';

/** Lines already read from a piped stdin but not yet consumed; one stdin may answer several questions. */
const pending: string[] = [];
let buffered = '';
let ended = false;

function nextLine(stdin: Readable): Promise<string | null> {
  if (pending.length > 0) return Promise.resolve(pending.shift()!);
  if (ended) return Promise.resolve(null);
  return new Promise((resolve) => {
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const lines = buffered.split(/\r?\n/);
      buffered = lines.pop() ?? '';
      pending.push(...lines);
      if (pending.length > 0) finish(pending.shift()!);
    };
    const onEnd = () => {
      ended = true;
      if (buffered !== '') {
        pending.push(buffered);
        buffered = '';
      }
      finish(pending.length > 0 ? pending.shift()! : null);
    };
    const finish = (line: string | null) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(line);
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

export async function ask(stdin: Readable, stderr: Writable, question: string): Promise<string> {
  stderr.write(question);
  const line = await nextLine(stdin);
  if (line === null) {
    stderr.write('\n');
    return '';
  }
  return line.trim();
}

/** On a TTY, raw mode keeps the password off the screen; from a pipe it is just the next line. */
export async function askSecret(stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void }, stderr: Writable, question: string): Promise<string> {
  if (!stdin.isTTY || !stdin.setRawMode) return ask(stdin, stderr, question);
  // Raw mode before the question: whoever types as soon as it shows must not be echoed.
  stdin.setRawMode(true);
  stderr.write(question);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          done();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          done();
          reject(new Error('interrupted'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
