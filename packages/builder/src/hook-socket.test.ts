import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushedCommit } from './git-objects.ts';
import { startHookSocket } from './hook-socket.ts';
import type { HookSocket } from './hook-socket.ts';
import { PushSessions } from './push-sessions.ts';

const dir = mkdtempSync(join(tmpdir(), 'deis-hooksock-'));
const socketPath = join(dir, 'builder.sock');
const sessions = new PushSessions();
const builds: { app: string; commit: PushedCommit }[] = [];
let hookSocket: HookSocket;

beforeAll(async () => {
  hookSocket = await startHookSocket({
    socketPath,
    sessions,
    repositoryPath: (app) => `/repos/${app}.git`,
    build: async (session, commit, out) => {
      builds.push({ app: session.app, commit });
      out('building');
      if (session.app === 'failing') throw new Error('Build failed: nope');
    },
  });
});

afterAll(async () => {
  await hookSocket.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a hook would see: the messages the builder sends, in order, until it closes. */
function ask(request: unknown): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown)));
  });
}

const sha = 'c'.repeat(40);
const refs = `${'0'.repeat(40)} ${sha} refs/heads/main\n`;

describe('the hook socket', () => {
  it('builds the pushed commit of a known push with the hook quarantine, and relays output and success', async () => {
    const session = sessions.begin('myapp', 'alice')!;
    const answer = await ask({ push: session.id, refs, gitEnv: { GIT_OBJECT_DIRECTORY: '/q/objects', PATH: '/evil' } });
    expect(answer).toEqual([{ out: 'building\n' }, { exit: 0 }]);
    expect(builds.at(-1)).toEqual({ app: 'myapp', commit: { repositoryPath: '/repos/myapp.git', sha, gitEnv: { GIT_OBJECT_DIRECTORY: '/q/objects' } } });
    await session.finish();
  });

  it("rejects the push with the build's message when the build fails", async () => {
    const session = sessions.begin('failing', 'alice')!;
    expect(await ask({ push: session.id, refs, gitEnv: {} })).toEqual([{ out: 'building\n' }, { out: 'Build failed: nope\n' }, { exit: 1 }]);
    await session.finish();
  });

  it('refuses unknown pushes and builds nothing for a push that only deletes', async () => {
    const before = builds.length;
    expect(await ask({ push: 'made-up', refs, gitEnv: {} })).toEqual([{ out: 'This push is not known to the builder.\n' }, { exit: 1 }]);
    const session = sessions.begin('myapp', 'alice')!;
    expect(await ask({ push: session.id, refs: `${sha} ${'0'.repeat(40)} refs/heads/old\n`, gitEnv: {} })).toEqual([{ exit: 0 }]);
    expect(builds.length).toBe(before);
    await session.finish();
  });
});
