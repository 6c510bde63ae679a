/**
 * The CPU a container used, from one answer of the engine's stats endpoint (`GET /containers/{id}/stats?stream=0`):
 * the engine samples twice about a second apart and gives both (`precpu_stats`, `cpu_stats`), so one answer holds a
 * rate. Kept apart from the scheduler so the arithmetic is tested without an engine.
 * @module
 */

/** The parts of the engine's answer the rate needs. */
export interface EngineStats {
  read?: string;
  preread?: string;
  cpu_stats?: EngineCpuStats;
  precpu_stats?: EngineCpuStats;
}

interface EngineCpuStats {
  cpu_usage?: { total_usage?: number };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/**
 * Thousandths of a core in use between the two samples; null when the answer holds only one sample (a container that
 * has just started, or has stopped). Uses the host's CPU time as the clock, as `docker stats` does, and wall time when
 * the engine gives no host CPU time.
 */
export function cpuMillisOf(stats: EngineStats): number | null {
  const used = stats.cpu_stats?.cpu_usage?.total_usage;
  const usedBefore = stats.precpu_stats?.cpu_usage?.total_usage;
  if (used === undefined || usedBefore === undefined || usedBefore === 0 || used < usedBefore) return null;
  const usedNanos = used - usedBefore;
  const system = stats.cpu_stats?.system_cpu_usage;
  const systemBefore = stats.precpu_stats?.system_cpu_usage;
  const cpus = stats.cpu_stats?.online_cpus;
  if (system !== undefined && systemBefore !== undefined && systemBefore > 0 && system > systemBefore && cpus) {
    // The host's CPU time passes `cpus` times as fast as the clock.
    return Math.round((usedNanos / (system - systemBefore)) * cpus * 1000);
  }
  const elapsedMs = Date.parse(stats.read ?? '') - Date.parse(stats.preread ?? '');
  if (!(elapsedMs > 0)) return null;
  return Math.round(usedNanos / 1_000_000 / elapsedMs * 1000);
}
