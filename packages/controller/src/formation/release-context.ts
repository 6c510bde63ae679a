/**
 * Loads what the containers of a release need (its build, its config, its port) into a ReleaseContext.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { ControllerDeps } from '../deps.ts';
import { buildType, releasePort } from './container-spec.ts';
import type { CommandShell, ReleaseBuild, ReleaseConfig, ReleaseContext } from './container-spec.ts';
import { findBuild, findConfig, latestGoodRelease } from './formation-store.ts';
import type { BuildRow, ConfigRow, ReleaseRow } from './formation-store.ts';

function jsonObject(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Config values reach containers as strings, whatever was stored (the wire shows them so too). */
function stringMap(text: string | null | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, value] of Object.entries(jsonObject(text))) {
    if (value !== null && value !== undefined) map[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return map;
}

export function toReleaseBuild(row: BuildRow): ReleaseBuild {
  return { uuid: row.uuid, image: row.image, sha: row.sha ?? '', procfile: stringMap(row.procfile), dockerfile: row.dockerfile ?? '' };
}

function toReleaseConfig(row: ConfigRow | undefined): ReleaseConfig {
  return {
    values: stringMap(row?.values),
    memory: stringMap(row?.memory),
    cpu: stringMap(row?.cpu),
    healthcheck: jsonObject(row?.healthcheck),
    tags: stringMap(row?.tags),
  };
}

/** Null when the release has no build (an app that was never given one). */
export async function loadReleaseContext(deps: ControllerDeps, app: { uuid: string; id: string }, release: ReleaseRow): Promise<ReleaseContext | null> {
  if (release.build_uuid === null) return null;
  const buildRow = await findBuild(deps.db, release.build_uuid);
  if (!buildRow) return null;
  const build = toReleaseBuild(buildRow);
  const config = toReleaseConfig(await findConfig(deps.db, release.config_uuid));
  const docker = buildType(build) !== 'buildpack';
  // Only Docker apps without a PORT take it from the image; asking the engine costs an inspect.
  const imagePorts = config.values.PORT === undefined && docker ? await deps.scheduler.imagePorts(build.image) : null;
  // Deis ran Docker apps' commands with bash; an image without it gets sh rather than a command that cannot start.
  const shell: CommandShell = !docker || (await deps.scheduler.imageHasFile(build.image, '/bin/bash')) ? '/bin/bash' : '/bin/sh';
  return {
    appUuid: app.uuid,
    appId: app.id,
    releaseUuid: release.uuid,
    version: release.version,
    summary: release.summary,
    created: release.created,
    build,
    config,
    port: releasePort(build, config.values, imagePorts),
    shell,
  };
}

/**
 * The context of the release the app should be running (its newest good one).
 * @throws ValidationError with `noBuildMessage` when that release has no build, as Deis answers scale and run then
 */
export async function currentReleaseContext(deps: ControllerDeps, app: { uuid: string; id: string }, noBuildMessage: string): Promise<ReleaseContext> {
  const release = await latestGoodRelease(deps.db, app.uuid);
  const context = release ? await loadReleaseContext(deps, app, release) : null;
  if (!context) throw new ValidationError(noBuildMessage);
  return context;
}
