/**
 * The builder's settings when it runs as a process of its own, read once from the environment into the options of
 * `startBuilder`, every problem reported at once. This is the only module of the builder that reads `process.env`.
 * @module
 */
import { join } from 'node:path';
import { controllerUrls } from '@deis/sdk/controller-urls';
import type { BuilderOptions } from './builder.ts';

export type BuilderSettings = Readonly<Omit<BuilderOptions, 'docker' | 'log'>>;

export class BuilderSettingsError extends Error {
  constructor(problems: string[]) {
    super(`invalid builder settings:\n  ${problems.join('\n  ')}`);
    this.name = 'BuilderSettingsError';
  }
}

export function loadBuilderSettings(env: Record<string, string | undefined> = process.env): BuilderSettings {
  const problems: string[] = [];
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) problems.push(`${name} must be a port number from 0 to 65535, not "${raw}"`);
    return value;
  };
  const controllerUrl = env.DEIS_CONTROLLER_URL || 'http://127.0.0.1:8000';
  // One URL, or several (comma-separated) the builder fails over between.
  const urls = controllerUrls(controllerUrl);
  if (urls.length === 0) problems.push(`DEIS_CONTROLLER_URL must be an http(s) URL, not "${controllerUrl}"`);
  for (const part of urls) {
    try {
      const url = new URL(part);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`DEIS_CONTROLLER_URL must be an http(s) URL, not "${part}"`);
    } catch {
      problems.push(`DEIS_CONTROLLER_URL must be an http(s) URL, not "${part}"`);
    }
  }
  const builderKey = env.DEIS_BUILDER_KEY ?? '';
  if (builderKey.length < 16) problems.push('DEIS_BUILDER_KEY must be set to a secret of at least 16 characters');
  const dataDir = env.DEIS_BUILDER_DATA_DIR || join(env.DEIS_DATA_DIR || join(process.cwd(), '.data'), 'builder');
  const settings: BuilderSettings = {
    controllerUrl,
    builderKey,
    dataDir,
    sshPort: port('DEIS_BUILDER_SSH_PORT', 2222),
    httpPort: port('DEIS_BUILDER_HTTP_PORT', 8001),
    listenAddress: env.DEIS_BUILDER_LISTEN_ADDRESS || '127.0.0.1',
    hostKeyPath: env.DEIS_BUILDER_HOST_KEY || join(dataDir, 'ssh_host_ed25519_key'),
  };
  if (problems.length > 0) throw new BuilderSettingsError(problems);
  return Object.freeze(settings);
}
