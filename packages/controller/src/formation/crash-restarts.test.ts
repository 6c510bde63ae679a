import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeScheduler } from '@deis/scheduler/fake/fake-scheduler';
import { CRASH_WINDOW_MS, nextRestartDue, noteExit, noteRestarted, noteRunning, restartCount, restartDelay, restartDue } from './crash-restarts.ts';

describe('crash restarts', () => {
  afterEach(() => vi.useRealTimers());

  it('doubles the wait with each exit, up to the cap', () => {
    expect([1, 2, 3, 4].map((exits) => restartDelay(exits, 1_000))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(restartDelay(20, 1_000, 300_000)).toBe(300_000);
    expect(restartDelay(40, 1_000)).toBe(300_000);
  });

  it('counts exits within the window only, and keeps the restart count', () => {
    vi.useFakeTimers({ now: 0 });
    const deps = { scheduler: new FakeScheduler() };
    expect(noteExit(deps, 'web-1', 'demo', 1_000)).toBe(1_000);
    // The same exit noted again (the event, then a pass) waits no longer.
    vi.advanceTimersByTime(400);
    expect(noteExit(deps, 'web-1', 'demo', 1_000)).toBe(600);
    expect(restartDue(deps, 'web-1', 'demo', 1_000)).toBe(false);
    expect(nextRestartDue(deps, 'demo')).toBe(600);
    vi.advanceTimersByTime(600);
    expect(restartDue(deps, 'web-1', 'demo', 1_000)).toBe(true);
    expect(noteRestarted(deps, 'web-1', 'demo')).toBe(1);
    expect(nextRestartDue(deps, 'demo')).toBeNull();
    expect(noteExit(deps, 'web-1', 'demo', 1_000)).toBe(2_000);
    noteRestarted(deps, 'web-1', 'demo');
    vi.advanceTimersByTime(CRASH_WINDOW_MS + 1);
    expect(noteExit(deps, 'web-1', 'demo', 1_000)).toBe(1_000);
    expect(restartCount(deps, 'web-1')).toBe(2);
  });

  it('drops a waiting restart only for a run that began after the exit', () => {
    vi.useFakeTimers({ now: 10_000 });
    const deps = { scheduler: new FakeScheduler() };
    noteExit(deps, 'web-1', 'demo', 1_000);
    noteRunning(deps, 'web-1', new Date(9_000));
    expect(nextRestartDue(deps, 'demo')).toBe(1_000);
    noteRunning(deps, 'web-1', new Date(10_500));
    expect(nextRestartDue(deps, 'demo')).toBeNull();
  });
});
