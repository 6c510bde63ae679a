/**
 * The host's pip package sources, given to buildpack builds the way its CA bundle is: an installation whose host pip
 * uses a local mirror (an air-gapped site, this project's own CI) gets builds that use it too. The index settings
 * pip itself would use for the platform's user (`[global]`/`[install]` of the system and user configuration files,
 * then PIP_* variables) become PIP_* variables of the build, and local mirror directories are mounted read-only at
 * the same paths.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files pip reads for a user, in its order; a later file wins per setting. */
export function pipConfigFiles(home: string | undefined): string[] {
  const files = ['/etc/xdg/pip/pip.conf', '/etc/pip.conf'];
  if (home) files.push(`${home}/.pip/pip.conf`, `${home}/.config/pip/pip.conf`);
  return files;
}

const ENV_KEYS = { PIP_INDEX_URL: 'index-url', PIP_EXTRA_INDEX_URL: 'extra-index-url', PIP_FIND_LINKS: 'find-links' } as const;

export interface PipSources {
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
}

export interface BuildSources {
  env: string[];
  /** Host directories to mount read-only at the same path. */
  directories: string[];
}

const KEYS = { 'index-url': 'indexUrl', 'extra-index-url': 'extraIndexUrls', 'find-links': 'findLinks' } as const;

/** The index settings of one pip configuration file (INI; list values split on white space and continuation lines). */
export function parsePipConfig(text: string): Partial<PipSources> {
  const found: Partial<PipSources> = {};
  let section = '';
  let key: keyof typeof KEYS | null = null;
  const values = new Map<keyof typeof KEYS, string[]>();
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') continue;
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      section = header[1]!.trim();
      key = null;
      continue;
    }
    if (/^\s/.test(raw) && key) {
      values.get(key)!.push(...raw.trim().split(/\s+/));
      continue;
    }
    const pair = /^([A-Za-z_-]+)\s*[=:]\s*(.*)$/.exec(raw.trim());
    const name = pair?.[1]?.toLowerCase().replace(/_/g, '-');
    key = (section === 'global' || section === 'install') && name && name in KEYS ? (name as keyof typeof KEYS) : null;
    if (key) values.set(key, pair![2]!.trim().split(/\s+/).filter(Boolean));
  }
  for (const [name, list] of values) {
    if (name === 'index-url') {
      if (list[0]) found.indexUrl = list[0];
    } else found[KEYS[name] as 'extraIndexUrls' | 'findLinks'] = list;
  }
  return found;
}

/** The directory a local source needs mounted: a `file:` simple index's parent (its links go `../../files/`), or the path. */
function localDirectory(source: string): string | null {
  let path: string;
  if (source.startsWith('file:')) {
    try {
      path = fileURLToPath(source);
    } catch {
      return null;
    }
  } else if (isAbsolute(source)) path = source;
  else return null;
  const directory = basename(path.replace(/\/+$/, '')) === 'simple' ? dirname(path.replace(/\/+$/, '')) : path;
  return existsSync(directory) ? directory : null;
}

/** What a build gets from pip's configuration files and then its PIP_* variables (none: nothing). */
export function pipBuildSources(files: string[] = pipConfigFiles(process.env.HOME), env: Record<string, string | undefined> = process.env): BuildSources {
  const merged: PipSources = { extraIndexUrls: [], findLinks: [] };
  for (const file of files) {
    if (!existsSync(file)) continue;
    Object.assign(merged, parsePipConfig(readFileSync(file, 'utf8')));
  }
  const fromEnv = Object.entries(ENV_KEYS)
    .filter(([name]) => env[name])
    .map(([name, key]) => `${key} = ${env[name]}`);
  if (fromEnv.length > 0) Object.assign(merged, parsePipConfig(`[global]\n${fromEnv.join('\n')}`));
  const variables: string[] = [];
  if (merged.indexUrl) variables.push(`PIP_INDEX_URL=${merged.indexUrl}`);
  if (merged.extraIndexUrls.length > 0) variables.push(`PIP_EXTRA_INDEX_URL=${merged.extraIndexUrls.join(' ')}`);
  if (merged.findLinks.length > 0) variables.push(`PIP_FIND_LINKS=${merged.findLinks.join(' ')}`);
  const directories = new Set<string>();
  for (const source of [merged.indexUrl ?? '', ...merged.extraIndexUrls, ...merged.findLinks]) {
    const directory = localDirectory(source);
    if (directory) directories.add(directory);
  }
  return { env: variables, directories: [...directories] };
}
