import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { preReceiveScript, PUSH_ENV, SOCKET_ENV } from './pre-receive-script.ts';

const dir = mkdtempSync(join(tmpdir(), 'deis-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runHook(path: string, env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The hook, installed where a package.json makes Node load it as CommonJS, or as an ES module. */
function install(kind: 'commonjs' | 'module'): string {
  const home = join(dir, kind);
  mkdirSync(join(home, 'hooks'), { recursive: true });
  writeFileSync(join(home, 'package.json'), JSON.stringify({ type: kind }));
  const path = join(home, 'hooks', 'pre-receive');
  writeFileSync(path, preReceiveScript(), { mode: 0o755 });
  return path;
}

describe('the pre-receive hook', () => {
  it('refuses a push that did not come through the builder', async () => {
    const result = await runHook(install('commonjs'), {}, '');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('accepts pushes only through the Deis builder');
  });

  for (const kind of ['commonjs', 'module'] as const) {
    it(`hands the refs and quarantine to the builder and relays its verdict (${kind} scope)`, async () => {
      const socketPath = join(dir, `${kind}.sock`);
      const received: unknown[] = [];
      const server = createServer((socket) => {
        socket.setEncoding('utf8');
        let buffered = '';
        socket.on('data', (chunk: string) => {
          buffered += chunk;
          if (!buffered.includes('\n')) return;
          received.push(JSON.parse(buffered.slice(0, buffered.indexOf('\n'))));
          socket.write(`${JSON.stringify({ out: 'Starting build... but first, coffee!\n' })}\n`);
          socket.end(`${JSON.stringify({ exit: 3 })}\n`);
        });
      });
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      try {
        const refs = `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/main\n`;
        const result = await runHook(install(kind), { [SOCKET_ENV]: socketPath, [PUSH_ENV]: 'push-1', GIT_QUARANTINE_PATH: '/q', DEIS_BUILDER_KEY: 'secret' }, refs);
        expect(result.stdout).toBe('Starting build... but first, coffee!\n');
        expect(result.code).toBe(3);
        expect(received).toEqual([{ push: 'push-1', refs, gitEnv: { GIT_QUARANTINE_PATH: '/q' } }]);
      } finally {
        server.close();
      }
    });
  }
});
