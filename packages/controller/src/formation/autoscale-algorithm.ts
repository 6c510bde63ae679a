/**
 * How many containers an autoscaled process type should run: the algorithm of Kubernetes' HorizontalPodAutoscaler for
 * a CPU utilisation target (docs/autoscaling.md), pure, so it is tested without time passing or an engine:
 * - the count the metrics ask for, `ceil(ready containers × utilisation / target)`, unchanged while utilisation is
 *   within 10% of the target, with the HPA's conservative guesses for containers without a sample or not yet ready;
 * - stabilised: the highest recommendation of the scale-down window and the lowest of the scale-up window win, so
 *   a dip in load does not remove containers that a moment later would be needed again;
 * - limited per pass as the HPA's default scale-up policy (double, or four more, whichever is more), and held
 *   between min and max.
 * @module
 */

/** The HPA's default tolerance: no change while utilisation is within 10% of the target. */
export const TOLERANCE = 0.1;

/** One container of the type, as the autoscaler saw it this pass. */
export interface ContainerSample {
  /** CPU in use as a percentage of the container's CPU request; null: no sample. */
  utilisation: number | null;
  /** False while it starts or waits for its readiness check. */
  ready: boolean;
}

export interface MetricRecommendation {
  /** What the metrics ask for; `current` when they ask for no change or there are none. */
  replicas: number;
  /** The average utilisation of the ready containers that have a sample, in percent; null: none has. */
  utilisation: number | null;
}

function average(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * The HPA's replica calculation for a resource utilisation target: every container has the same request here, so the
 * ratio of summed usage to summed requests is the average utilisation.
 */
export function metricReplicas(current: number, samples: ContainerSample[], targetPercent: number, tolerance = TOLERANCE): MetricRecommendation {
  const measured = samples.filter((s) => s.ready && s.utilisation !== null).map((s) => s.utilisation as number);
  if (measured.length === 0) return { replicas: current, utilisation: null };
  const utilisation = average(measured);
  const ratio = utilisation / targetPercent;
  const missing = samples.filter((s) => s.ready && s.utilisation === null).length;
  const unready = samples.filter((s) => !s.ready).length;
  const scaleUpWithUnready = unready > 0 && ratio > 1;

  if (!scaleUpWithUnready && missing === 0) {
    if (Math.abs(1 - ratio) <= tolerance) return { replicas: current, utilisation };
    return { replicas: Math.ceil(ratio * measured.length), utilisation };
  }

  // Guess against the move: on the way down, a container without a sample counts as using its whole request (or the
  // target, if higher); on the way up, as using nothing, and so does every container not ready yet.
  const guessed = [...measured];
  if (ratio < 1) for (let i = 0; i < missing; i += 1) guessed.push(Math.max(100, targetPercent));
  else if (ratio > 1) for (let i = 0; i < missing; i += 1) guessed.push(0);
  if (scaleUpWithUnready) for (let i = 0; i < unready; i += 1) guessed.push(0);
  const newRatio = average(guessed) / targetPercent;
  // The guesses reversed the direction or brought it within tolerance: no change.
  if (Math.abs(1 - newRatio) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return { replicas: current, utilisation };
  const replicas = Math.ceil(newRatio * guessed.length);
  if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) return { replicas: current, utilisation };
  return { replicas, utilisation };
}

/** A recommendation the metrics made, kept for the stabilisation windows. */
export interface Recommendation {
  time: number;
  replicas: number;
}

export interface AutoscaleWindows {
  /** Recommendations this recent are considered before scaling up; the HPA's default is 0 (scale up at once). */
  scaleUpMs: number;
  /** Recommendations this recent are considered before scaling down; the HPA's default is 300 s. */
  scaleDownMs: number;
}

/**
 * Adds `recommended` at `now` to `history` (in place, pruning records older than both windows) and returns the
 * stabilised count: never above the lowest recommendation of the scale-up window, never below the highest of the
 * scale-down window, and otherwise `current`.
 */
export function stabilise(history: Recommendation[], now: number, recommended: number, current: number, windows: AutoscaleWindows): number {
  let up = recommended;
  let down = recommended;
  for (const record of history) {
    if (record.time > now - windows.scaleUpMs) up = Math.min(up, record.replicas);
    if (record.time > now - windows.scaleDownMs) down = Math.max(down, record.replicas);
  }
  const keepFor = Math.max(windows.scaleUpMs, windows.scaleDownMs);
  for (let i = history.length - 1; i >= 0; i -= 1) if (history[i]!.time <= now - keepFor) history.splice(i, 1);
  history.push({ time: now, replicas: recommended });
  let stabilised = current;
  if (stabilised < up) stabilised = up;
  if (stabilised > down) stabilised = down;
  return stabilised;
}

export interface AutoscaleRule {
  min: number;
  max: number;
  /** The target: CPU in use as a percentage of the request, averaged over the type's containers. */
  cpuPercent: number;
}

export interface AutoscaleDecision {
  replicas: number;
  /** What the metrics said, for the event line; null when the decision needed none (outside min..max, or no sample). */
  utilisation: number | null;
}

/**
 * One pass of the HPA for one process type: outside min..max it goes to the nearest bound at once; at 0 it stays
 * (the HPA takes a target scaled to zero as switched off); otherwise metrics, stabilisation, the scale-up rate limit
 * and the bounds, in that order.
 */
export function decideReplicas(input: {
  current: number;
  rule: AutoscaleRule;
  samples: ContainerSample[];
  history: Recommendation[];
  now: number;
  windows: AutoscaleWindows;
  tolerance?: number;
}): AutoscaleDecision {
  const { current, rule } = input;
  if (current === 0) return { replicas: 0, utilisation: null };
  if (current > rule.max) return { replicas: rule.max, utilisation: null };
  if (current < rule.min) return { replicas: rule.min, utilisation: null };
  // A type seen for the first time has its count as its first recommendation, as a new HPA does: a fresh rule (or a
  // restarted controller) does not scale down before a whole window has passed.
  if (input.history.length === 0) input.history.push({ time: input.now, replicas: current });
  const metric = metricReplicas(current, input.samples, rule.cpuPercent, input.tolerance);
  const stabilised = stabilise(input.history, input.now, metric.replicas, current, input.windows);
  const scaleUpLimit = Math.max(current * 2, current + 4);
  const replicas = Math.min(rule.max, Math.max(rule.min, Math.min(stabilised, scaleUpLimit)));
  return { replicas, utilisation: metric.utilisation };
}
