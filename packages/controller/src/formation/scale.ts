/**
 * `deis scale web=3`: validates the request as Deis does, then starts or stops containers of the current release.
 * The stored structure changes only once the containers match it, so a failure half-way leaves the old structure
 * and the old containers. The autoscaler scales through here too; a user may not scale a type it drives.
 * @module
 */
import { NotFoundError, ValidationError } from '@deis/core/errors';
import type { Autoscale } from '@deis/sdk/types';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { latestSettings, settingsValues } from '../settings/settings-store.ts';
import { appContainers } from './app-containers.ts';
import { rolloutError } from './rollout-errors.ts';
import { planFormation } from './formation-plan.ts';
import { findAppByUuid, parseStructure, saveStructure } from './formation-store.ts';
import { checkScaleQuota } from './quotas.ts';
import { RELEASE_TYPE } from './container-spec.ts';
import { formationState, withAppLock } from './formation-state.ts';
import { currentReleaseContext } from './release-context.ts';
import { executeRollout } from './rollout.ts';

/** Python's `type(x).__name__`, for Deis's own wording of a bad count. */
function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'dict' : typeof value;
}

/** Python's `int(value)`, with its error messages, which Deis puts after `Invalid scaling format: `. */
function pythonInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string') {
    if (/^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
    throw new Error(`invalid literal for int() with base 10: '${value}'`);
  }
  throw new Error(`int() argument must be a string, a bytes-like object or a number, not '${pythonTypeName(value)}'`);
}

/** The requested counts, or the 400 Deis gives (`Invalid scaling format: …`). */
export function parseScaleRequest(body: Record<string, unknown>): Record<string, number> {
  const counts: Record<string, number> = {};
  try {
    for (const [type, value] of Object.entries(body)) counts[type] = pythonInt(value);
  } catch (error) {
    throw new ValidationError(`Invalid scaling format: ${(error as Error).message}`);
  }
  if (Object.values(counts).some((count) => count < 0)) throw new ValidationError("Invalid scaling format: ['Must be greater than or equal to zero']");
  return counts;
}

/** Thrown for a type the current build does not have; the route answers 404 `{"detail"}`, as DRF's NotFound does. */
export class UnknownProcessTypeError extends NotFoundError {
  constructor(type: string) {
    super(`Container type ${type} does not exist in application`, { code: 'unknown_process_type' });
  }
}

/** Thrown for a manual scale of a type the autoscaler drives; the contract has no message for it, so this is ours. */
export class AutoscaledTypeError extends ValidationError {
  constructor(type: string, rule: Autoscale) {
    super(
      `Cannot scale ${type} by hand: it is autoscaled between ${rule.min} and ${rule.max} containers at ${rule.cpu_percent}% CPU; ` +
        `unset its autoscaling first (deis autoscale:unset ${type})`,
    );
  }
}

function countWords(counts: Record<string, number>): string {
  return Object.entries(counts).map(([type, n]) => `${type}=${n}`).join(' ');
}

export async function scaleApp(deps: ControllerDeps, appUuid: string, appId: string, username: string, body: Record<string, unknown>): Promise<void> {
  await scaleWithin(deps, appUuid, appId, body, { manual: true, event: (counts) => `${username} scaled pods ${countWords(counts)}` });
}

/**
 * The autoscaler's scale of one type, on the path a user's scale takes (quotas, rollout, router, event). Nothing
 * happens, and false is answered, when the type's count is no longer `from` or its autoscaling was unset meanwhile:
 * the decision was made on what has since changed.
 */
export async function autoscaleType(deps: ControllerDeps, app: { uuid: string; id: string }, type: string, from: number, to: number, why: string): Promise<boolean> {
  return scaleWithin(deps, app.uuid, app.id, { [type]: to }, { manual: false, from, event: (counts) => `autoscaler scaled pods ${countWords(counts)} (${why})` });
}

async function scaleWithin(
  deps: ControllerDeps,
  appUuid: string,
  appId: string,
  body: Record<string, unknown>,
  options: { manual: boolean; from?: number; event: (counts: Record<string, number>) => string },
): Promise<boolean> {
  return withAppLock(deps, appId, async () => {
    const app = await findAppByUuid(deps.db, appUuid);
    if (!app) throw NotFoundError.of('App');
    const context = await currentReleaseContext(deps, app, 'No build associated with this release');
    const counts = parseScaleRequest(body);
    for (const type of Object.keys(counts)) {
      // `cmd` is always allowed: a Docker image's own CMD needs no Procfile entry. `release` runs once per release.
      if (type === RELEASE_TYPE || (type !== 'cmd' && !(type in context.build.procfile))) throw new UnknownProcessTypeError(type);
    }
    const current = parseStructure(app);
    const autoscale = await autoscaleRules(deps, app);
    if (options.manual) {
      for (const type of Object.keys(counts)) {
        const rule = autoscale[type];
        if (rule) throw new AutoscaledTypeError(type, rule);
      }
    } else if (Object.keys(counts).some((type) => !autoscale[type] || (current[type] ?? 0) !== options.from)) {
      return false;
    }
    const structure = { ...current, ...counts };
    await checkScaleQuota(deps, app, current, structure);
    try {
      const containers = await appContainers(deps, app.id);
      const plan = planFormation(containers, `v${context.version}`, structure, Object.keys(counts), formationState(deps).draining);
      await executeRollout(deps, { context, ...plan });
    } catch (error) {
      throw rolloutError(error, 'scaling failed: ');
    }
    if (JSON.stringify(structure) !== JSON.stringify(current)) {
      await saveStructure(deps.db, app.uuid, structure);
      await recordEvent(deps.db, app.uuid, options.event(counts));
    }
    return true;
  });
}

async function autoscaleRules(deps: ControllerDeps, app: { uuid: string }): Promise<Record<string, Autoscale>> {
  const row = await latestSettings(deps.db, app.uuid);
  return row ? settingsValues(row).autoscale : {};
}
