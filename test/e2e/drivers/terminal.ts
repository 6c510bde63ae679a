/**
 * A program on a pseudo-terminal, driven as a person at a keyboard would: tmux on a server of its own, keys sent with
 * `send-keys`, the screen read with `capture-pane`, the window resized with `resize-window`. The program's exit code
 * is written to a file by the shell that runs it, since tmux forgets it with the pane.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from './processes.ts';

export interface Terminal {
  /** Types text literally (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux's names: `Enter`, `C-c`. */
  press(...keys: string[]): Promise<void>;
  resize(columns: number, rows: number): Promise<void>;
  /** The screen and its scrollback, trailing blank lines dropped. */
  screen(): Promise<string>;
  /** Polls the screen until `accept` holds; fails with the last screen seen. */
  waitForScreen(accept: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  /** The program's exit code once it has ended, else null. */
  exitCode(): number | null;
  /** Polls until the program has ended. */
  waitForExit(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** Runs `program args…` on a new pseudo-terminal of `columns`×`rows` with `env`. */
export async function openTerminal(program: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; columns: number; rows: number }): Promise<Terminal> {
  const server = `deis-e2e-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'deis-tty-'));
  const exitFile = join(dir, 'exit-code');
  const tmux = async (...args: string[]) => {
    const result = await runProgram('tmux', ['-L', server, '-f', '/dev/null', ...args], { env: options.env, cwd: options.cwd });
    if (result.code !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  };
  // `sh -c 'script' sh program args…`: the program and its arguments stay separate words, never parsed by the shell.
  const script = '"$@"; echo $? > "$DEIS_E2E_EXIT_FILE"; sleep 600';
  await runProgram('tmux', ['-L', server, '-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(options.columns), '-y', String(options.rows), 'sh', '-c', script, 'sh', program, ...args], {
    env: { ...options.env, DEIS_E2E_EXIT_FILE: exitFile },
    cwd: options.cwd,
  }).then((result) => {
    if (result.code !== 0) throw new Error(`tmux new-session failed: ${result.stderr}`);
  });
  await tmux('set-option', '-g', 'history-limit', '5000');

  const exitCode = () => {
    try {
      const text = readFileSync(exitFile, 'utf8').trim();
      return text === '' ? null : Number(text);
    } catch {
      return null;
    }
  };
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-t', 'main', '-S', '-5000')).replace(/\n+$/, '');
  const poll = async <T>(read: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what} not seen within ${timeoutMs} ms; the screen:\n${await screen().catch(() => '')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return {
    type: async (text) => void (await tmux('send-keys', '-t', 'main', '-l', text)),
    press: async (...keys) => void (await tmux('send-keys', '-t', 'main', ...keys)),
    resize: async (columns, rows) => void (await tmux('resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows))),
    screen,
    waitForScreen: (accept, timeoutMs = 30_000) => poll(screen, accept, timeoutMs, 'the expected screen'),
    exitCode,
    waitForExit: async (timeoutMs = 30_000) => (await poll(exitCode, (code) => code !== null, timeoutMs, 'the exit'))!,
    close: async () => {
      await runProgram('tmux', ['-L', server, 'kill-server']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
