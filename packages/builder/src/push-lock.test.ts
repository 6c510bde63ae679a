import { describe, expect, it } from 'vitest';
import { PushLocks } from './push-lock.ts';
import { PushSessions } from './push-sessions.ts';

describe('PushLocks', () => {
  it('holds one lock per app until released, and a release is idempotent', () => {
    const locks = new PushLocks();
    const release = locks.tryAcquire('a');
    expect(release).not.toBeNull();
    expect(locks.tryAcquire('a')).toBeNull();
    expect(locks.tryAcquire('b')).not.toBeNull();
    release?.();
    const again = locks.tryAcquire('a');
    expect(again).not.toBeNull();
    release?.();
    expect(locks.isHeld('a')).toBe(true);
  });
});

describe('PushSessions', () => {
  it('refuses a second push to an app and frees the app only once git ended and the build settled', async () => {
    const sessions = new PushSessions();
    const session = sessions.begin('a', 'alice');
    expect(session).not.toBeNull();
    expect(sessions.begin('a', 'bob')).toBeNull();
    expect(sessions.find(session!.id)).toBe(session);

    let endBuild: () => void = () => undefined;
    session!.track(new Promise<void>((resolve) => (endBuild = resolve)));
    const finished = session!.finish();
    expect(sessions.find(session!.id)).toBeUndefined();
    await Promise.resolve();
    expect(sessions.isPushing('a')).toBe(true);
    endBuild();
    await finished;
    expect(sessions.isPushing('a')).toBe(false);
    expect(sessions.begin('a', 'bob')).not.toBeNull();
  });

  it('frees the app after a failed build and aborts on interruption', async () => {
    const sessions = new PushSessions();
    const session = sessions.begin('a', 'alice')!;
    session.track(Promise.reject(new Error('build failed')));
    session.abort();
    expect(session.signal.aborted).toBe(true);
    await session.finish();
    expect(sessions.isPushing('a')).toBe(false);
  });
});
