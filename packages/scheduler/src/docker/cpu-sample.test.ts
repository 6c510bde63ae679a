import { describe, expect, it } from 'vitest';
import { cpuMillisOf } from './cpu-sample.ts';

describe('cpuMillisOf', () => {
  it('reads half a core from the host CPU time, as docker stats does', () => {
    // 2 CPUs, 1 s of wall time: the host's CPU time moves 2e9 ns, the container's 0.5e9 ns.
    const stats = {
      cpu_stats: { cpu_usage: { total_usage: 10_500_000_000 }, system_cpu_usage: 102_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 10_000_000_000 }, system_cpu_usage: 100_000_000_000, online_cpus: 2 },
    };
    expect(cpuMillisOf(stats)).toBe(500);
  });

  it('falls back to wall time when the engine gives no host CPU time', () => {
    const stats = {
      read: '2026-01-01T00:00:02.000Z',
      preread: '2026-01-01T00:00:01.000Z',
      cpu_stats: { cpu_usage: { total_usage: 3_250_000_000 } },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 } },
    };
    expect(cpuMillisOf(stats)).toBe(1250);
  });

  it('has no rate from a single sample or a counter that went back', () => {
    expect(cpuMillisOf({ cpu_stats: { cpu_usage: { total_usage: 5 } }, precpu_stats: { cpu_usage: { total_usage: 0 } } })).toBeNull();
    expect(cpuMillisOf({ cpu_stats: { cpu_usage: { total_usage: 5 } } })).toBeNull();
    expect(cpuMillisOf({ cpu_stats: { cpu_usage: { total_usage: 5 } }, precpu_stats: { cpu_usage: { total_usage: 9 } } })).toBeNull();
    expect(cpuMillisOf({})).toBeNull();
  });
});
