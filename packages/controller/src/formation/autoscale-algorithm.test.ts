import { describe, expect, it } from 'vitest';
import { decideReplicas, metricReplicas, stabilise } from './autoscale-algorithm.ts';
import type { ContainerSample, Recommendation } from './autoscale-algorithm.ts';

const ready = (...utilisations: Array<number | null>): ContainerSample[] => utilisations.map((utilisation) => ({ utilisation, ready: true }));
const windows = { scaleUpMs: 0, scaleDownMs: 300_000 };

describe('metricReplicas (the HPA replica calculation)', () => {
  it('asks for ceil(containers × utilisation / target)', () => {
    expect(metricReplicas(2, ready(90, 90), 60)).toEqual({ replicas: 3, utilisation: 90 });
    expect(metricReplicas(1, ready(85), 60).replicas).toBe(2);
    expect(metricReplicas(3, ready(20, 20, 20), 60).replicas).toBe(1);
    expect(metricReplicas(4, ready(300, 300, 300, 300), 50).replicas).toBe(24);
  });

  it('changes nothing within 10% of the target, either way', () => {
    expect(metricReplicas(2, ready(65, 65), 60).replicas).toBe(2);
    expect(metricReplicas(2, ready(55, 55), 60).replicas).toBe(2);
    expect(metricReplicas(2, ready(67, 67), 60).replicas).toBe(3);
    expect(metricReplicas(4, ready(53, 53, 53, 53), 60).replicas).toBe(4);
    expect(metricReplicas(4, ready(50, 50, 50, 50), 60).replicas).toBe(4);
    expect(metricReplicas(4, ready(40, 40, 40, 40), 60).replicas).toBe(3);
  });

  it('without any sample, changes nothing', () => {
    expect(metricReplicas(3, ready(null, null, null), 60)).toEqual({ replicas: 3, utilisation: null });
    expect(metricReplicas(2, [], 60)).toEqual({ replicas: 2, utilisation: null });
  });

  it('guesses against the move for containers without a sample', () => {
    // Up: the missing one counts as idle, (90 + 0) / 2 = 45% < 60%: the direction reverses, no change.
    expect(metricReplicas(2, ready(90, null), 60).replicas).toBe(2);
    // Still up with the guess: (180 + 0) / 2 = 90% → ceil(2 × 1.5) = 3.
    expect(metricReplicas(2, ready(180, null), 60).replicas).toBe(3);
    // Down: the missing one counts as using its whole request, (10 + 100) / 2 = 55%, within tolerance: no change.
    expect(metricReplicas(2, ready(10, null), 60).replicas).toBe(2);
    // Down with three: (0 + 0 + 100) / 3 = 33% → ceil(3 × 0.56) = 2.
    expect(metricReplicas(3, ready(0, 0, null), 60).replicas).toBe(2);
  });

  it('counts containers not ready yet as idle on the way up, and ignores them on the way down', () => {
    const starting = { utilisation: null, ready: false };
    // (120 + 0) / 2 = 60%: exactly the target once the new one is counted, so no further scale-up.
    expect(metricReplicas(2, [{ utilisation: 120, ready: true }, starting], 60).replicas).toBe(2);
    expect(metricReplicas(2, [{ utilisation: 240, ready: true }, starting], 60).replicas).toBe(4);
    expect(metricReplicas(2, [{ utilisation: 10, ready: true }, starting], 60).replicas).toBe(1);
  });
});

describe('stabilise (the HPA stabilisation windows)', () => {
  it('scales up at once with a 0 s scale-up window', () => {
    const history: Recommendation[] = [{ time: 0, replicas: 1 }];
    expect(stabilise(history, 15_000, 4, 1, windows)).toBe(4);
  });

  it('scales down only to the highest recommendation of the scale-down window', () => {
    const history: Recommendation[] = [];
    expect(stabilise(history, 0, 5, 5, windows)).toBe(5);
    expect(stabilise(history, 100_000, 2, 5, windows)).toBe(5);
    expect(stabilise(history, 200_000, 3, 5, windows)).toBe(5);
    // The 5 of t=0 has left the window; the 3 of t=200 s is the highest left.
    expect(stabilise(history, 300_001, 1, 5, windows)).toBe(3);
    expect(stabilise(history, 500_001, 1, 3, windows)).toBe(1);
  });

  it('with a scale-up window, scales up only to the lowest recommendation in it', () => {
    const history: Recommendation[] = [];
    const slowUp = { scaleUpMs: 60_000, scaleDownMs: 300_000 };
    expect(stabilise(history, 0, 2, 2, slowUp)).toBe(2);
    expect(stabilise(history, 30_000, 6, 2, slowUp)).toBe(2);
    expect(stabilise(history, 61_000, 6, 2, slowUp)).toBe(6);
  });

  it('forgets records older than both windows', () => {
    const history: Recommendation[] = [];
    for (let t = 0; t <= 1_000_000; t += 15_000) stabilise(history, t, 2, 2, windows);
    expect(history.length).toBeLessThanOrEqual(21);
  });
});

describe('decideReplicas', () => {
  const rule = { min: 1, max: 5, cpuPercent: 60 };
  const decide = (current: number, samples: ContainerSample[], history: Recommendation[] = [], now = 0, ruleOverride = rule) =>
    decideReplicas({ current, rule: ruleOverride, samples, history, now, windows });

  it('holds the count between min and max', () => {
    expect(decide(1, ready(1000)).replicas).toBe(5);
    expect(decide(5, ready(0, 0, 0, 0, 0), [], 0).replicas).toBe(5);
    expect(decide(7, ready(0)).replicas).toBe(5);
    expect(decide(1, ready(0), [], 0, { min: 2, max: 5, cpuPercent: 60 })).toEqual({ replicas: 2, utilisation: null });
    expect(decide(2, ready(1, 1), [], 400_000, { min: 2, max: 5, cpuPercent: 60 }).replicas).toBe(2);
  });

  it('leaves a type scaled to zero alone, as the HPA does', () => {
    expect(decide(0, [])).toEqual({ replicas: 0, utilisation: null });
  });

  it('grows by at most double or four more per pass', () => {
    const wide = { min: 1, max: 50, cpuPercent: 10 };
    expect(decide(1, ready(100), [], 0, wide).replicas).toBe(5);
    expect(decide(10, ready(...Array<number>(10).fill(100)), [], 0, wide).replicas).toBe(20);
  });

  it('does not flap when load comes and goes within the scale-down window', () => {
    const history: Recommendation[] = [];
    let current = 1;
    const seen: number[] = [];
    for (let pass = 0; pass < 20; pass += 1) {
      const load = pass % 2 === 0 ? 150 : 5;
      current = decide(current, ready(...Array<number>(current).fill(load)), history, pass * 15_000).replicas;
      seen.push(current);
    }
    // Up on the first busy pass, up again, then held: never down while busy passes keep coming.
    expect(seen.slice(0, 3)).toEqual([3, 3, 5]);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
  });
});
