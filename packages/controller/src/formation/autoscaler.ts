/**
 * The autoscaler: one loop for every app, started with the controller. Each pass reads the autoscale rules of all
 * apps in one query (`deis autoscale:set`), lists the engine once, samples the CPU of the autoscaled types'
 * containers a few at a time, and scales each type to what the HPA's algorithm (autoscale-algorithm.ts) decides,
 * through the same path as `deis scale` (scale.ts), so quotas, the router and the event log work as for a user's
 * scale. `deis autoscale:unset` stops it for that type: the count stays where it was. docs/autoscaling.md.
 * @module
 */
import type { Container } from '@deis/scheduler/scheduler';
import type { Autoscale } from '@deis/sdk/types';
import { latestRowOfEveryApp } from '../db/versioned-rows.ts';
import type { ControllerDeps } from '../deps.ts';
import { containersByApp } from './app-containers.ts';
import { decideReplicas } from './autoscale-algorithm.ts';
import type { AutoscaleWindows, ContainerSample, Recommendation } from './autoscale-algorithm.ts';
import { cpuMillis, LABEL } from './container-spec.ts';
import { appsWithBuilds, latestGoodRelease, parseStructure } from './formation-store.ts';
import type { FormationApp } from './formation-store.ts';
import { formationState, isAppBusy } from './formation-state.ts';
import { WHOLE_PASS } from './reconciler.ts';
import { loadReleaseContext } from './release-context.ts';
import { autoscaleType } from './scale.ts';

/** Containers whose CPU is sampled at once: each sample takes the engine about a second, and the host is shared. */
export const PARALLEL_STATS = 4;

export interface AutoscalerOptions {
  /** How often a pass runs; the HPA's default sync period is 15 s. */
  syncPeriodMs: number;
  windows: AutoscaleWindows;
  /** Containers sampled at once; default PARALLEL_STATS. */
  parallelStats?: number;
  /** The clock the stabilisation windows are measured on; tests give one they move by hand. */
  now?: () => number;
  /** Told about each app whose type could not be scaled, or with WHOLE_PASS about a pass that failed; the next pass tries again. */
  onError?: (appId: string, error: unknown) => void;
}

export interface Autoscaler {
  /** Runs one pass now, after any pass in progress, and waits for it and the scales it makes. */
  syncNow(): Promise<void>;
  /** Stops the timer, then waits for a pass in progress. */
  stop(): Promise<void>;
}

/** What `deis limits:set --cpu` gave the type, as the HPA reads a pod's request: `100m/1` requests 100m; none: one core. */
export function cpuRequestMillis(value: string | undefined): number {
  if (value === undefined) return 1000;
  return cpuMillis(value.split('/')[0]!) ?? 1000;
}

interface Target {
  app: FormationApp;
  type: string;
  rule: Autoscale;
  current: number;
  requestMillis: number;
  containers: Container[];
}

function rulesOf(text: string): Record<string, Autoscale> {
  try {
    const parsed = JSON.parse(text) as Record<string, Autoscale> | null;
    return parsed !== null && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

/** Runs `work` on every item, at most `limit` at once, keeping the order of `items` in the answer. */
async function bounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function startAutoscaler(deps: ControllerDeps, options: AutoscalerOptions): Autoscaler {
  const now = options.now ?? Date.now;
  const parallel = Math.max(1, options.parallelStats ?? PARALLEL_STATS);
  const report = (appId: string, error: unknown) => options.onError?.(appId, error);
  /** The recommendations of each autoscaled type (`<app uuid>/<type>`), for the stabilisation windows. */
  const histories = new Map<string, Recommendation[]>();
  let stopped = false;
  let pass: Promise<void> | null = null;

  /** The autoscaled types of apps not busy with a deploy or scale, with their containers of the release in force. */
  const targets = async (): Promise<Target[]> => {
    const rules = new Map<string, Record<string, Autoscale>>();
    for (const row of await latestRowOfEveryApp(deps.db, 'app_settings')) {
      const appRules = rulesOf(row.autoscale);
      if (Object.keys(appRules).length > 0) rules.set(row.app_uuid, appRules);
    }
    // An unset rule, or a deleted app, leaves no history behind: a new rule starts afresh.
    for (const key of histories.keys()) {
      const [appUuid, type] = key.split('/') as [string, string];
      if (!rules.get(appUuid)?.[type]) histories.delete(key);
    }
    if (rules.size === 0) return [];
    const apps = (await appsWithBuilds(deps.db)).filter((app) => rules.has(app.uuid));
    if (apps.length === 0) return [];
    const byApp = await containersByApp(deps);
    const { draining } = formationState(deps);
    const found: Target[] = [];
    for (const app of apps) {
      // Its containers are changing under a deploy, scale or restart; the next pass sees where they settled.
      if (isAppBusy(deps, app.id)) continue;
      const release = await latestGoodRelease(deps.db, app.uuid);
      const context = release ? await loadReleaseContext(deps, app, release) : null;
      if (!release || !context) continue;
      const structure = parseStructure(app);
      for (const [type, rule] of Object.entries(rules.get(app.uuid) ?? {})) {
        const containers = (byApp.get(app.id) ?? []).filter(
          (c) => c.labels[LABEL.type] === type && c.labels[LABEL.release] === `v${release.version}` && !draining.has(c.name) && (c.state === 'up' || c.state === 'starting'),
        );
        found.push({ app, type, rule, current: structure[type] ?? 0, requestMillis: cpuRequestMillis(context.config.cpu[type]), containers });
      }
    }
    return found;
  };

  const runPass = async () => {
    let found: Target[];
    let samples: Map<string, number | null>;
    try {
      found = await targets();
      const { notReady } = formationState(deps);
      const sampled = found.flatMap((t) => t.containers).filter((c) => c.state === 'up' && !notReady.has(c.name)).map((c) => c.name);
      // A container whose sample fails counts as one without a sample; the algorithm guesses for those.
      const cpu = await bounded(sampled, parallel, async (name) => (await deps.scheduler.stats(name).catch(() => null))?.cpuMillis ?? null);
      samples = new Map(sampled.map((name, index) => [name, cpu[index] ?? null]));
    } catch (error) {
      report(WHOLE_PASS, error);
      return;
    }
    const { notReady } = formationState(deps);
    const scales = found.map(async (target) => {
      const { app, type, rule, current } = target;
      const key = `${app.uuid}/${type}`;
      let history = histories.get(key);
      if (!history) histories.set(key, (history = []));
      const containerSamples: ContainerSample[] = target.containers.map((c) => {
        const cpu = samples.get(c.name);
        return { ready: c.state === 'up' && !notReady.has(c.name), utilisation: cpu === null || cpu === undefined ? null : (cpu / target.requestMillis) * 100 };
      });
      const decision = decideReplicas({ current, rule: { min: rule.min, max: rule.max, cpuPercent: rule.cpu_percent }, samples: containerSamples, history, now: now(), windows: options.windows });
      const replicas = Math.min(decision.replicas, deps.settings.limits.scalePerType);
      if (replicas === current || stopped) return;
      const why =
        decision.utilisation === null
          ? current < rule.min ? `below the minimum of ${rule.min}` : `above the maximum of ${rule.max}`
          : `cpu ${Math.round(decision.utilisation)}% of ${rule.cpu_percent}%`;
      try {
        await autoscaleType(deps, app, type, current, replicas, why);
      } catch (error) {
        report(app.id, error);
      }
    });
    await Promise.all(scales);
  };

  const syncNow = async (): Promise<void> => {
    while (pass) await pass;
    if (stopped) return;
    pass = runPass().finally(() => {
      pass = null;
    });
    return pass;
  };

  const timer = setInterval(() => {
    // A pass still scaling (waiting for new containers to be ready) is not queued behind.
    if (!pass) void syncNow();
  }, options.syncPeriodMs);
  timer.unref?.();

  return {
    syncNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (pass) await pass;
    },
  };
}
