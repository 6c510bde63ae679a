/**
 * An app's config as a value, and the rules for changing it (contract §1.4): each field of a POST is validated, merged
 * into the previous config (null unsets), legacy `HEALTHCHECK_*` values roll over into `healthcheck`, and registry and
 * tag settings are checked against the rest. Pure: the store and the routes live elsewhere.
 * @module
 */
import { UnprocessableError, ValidationError } from '@deis/core/errors';
import type { Config, Healthcheck, Probe } from '@deis/sdk/types';

/** What a config holds, as the wire's Config carries it, without who, when and for which app. */
export type ConfigData = Pick<Config, 'values' | 'memory' | 'cpu' | 'tags' | 'registry' | 'healthcheck'>;

export const EMPTY_CONFIG: ConfigData = Object.freeze({ values: {}, memory: {}, cpu: {}, tags: {}, registry: {}, healthcheck: {} });

/** A validated POST: the fields that came, with null meaning "unset". */
export interface ConfigChange {
  values?: Record<string, string | null>;
  memory?: Record<string, string | null>;
  cpu?: Record<string, string | null>;
  tags?: Record<string, string | null>;
  registry?: Record<string, string | null>;
  healthcheck?: Record<string, Record<string, Probe | null> | null>;
}

const FLAT_FIELDS = ['values', 'memory', 'cpu', 'tags', 'registry'] as const;
type FlatField = (typeof FLAT_FIELDS)[number];

const CONFIG_KEY = /^[a-z_]+[a-z0-9_]*$/i;
const PROC_TYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MEMORY = /^(([0-9]+(MB|KB|GB|[BKMG])|0)(\/([0-9]+(MB|KB|GB|[BKMG])))?)$/i;
const CPU = /^(([-+]?[0-9]*\.?[0-9]+m?)(\/([-+]?[0-9]*\.?[0-9]+m?))?)$/;
const TAG_VALUE = /^(?:[a-zA-Z\d][-.\w]{0,61})?[a-zA-Z\d]$/;
const PROBE_KINDS = ['livenessProbe', 'readinessProbe'] as const;

/** The wire shows every flat value as a string, as Python's `str()` would print it. */
export function asConfigString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** The parts of a URL as Python's `urlparse` splits them, which is how Deis judges HEALTHCHECK_URL. */
function splitUrl(text: string): { netloc: string; path: string; query: string; fragment: string } {
  let rest = text.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:/, '');
  const hash = rest.indexOf('#');
  const fragment = hash >= 0 ? rest.slice(hash + 1) : '';
  if (hash >= 0) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  const query = question >= 0 ? rest.slice(question + 1) : '';
  if (question >= 0) rest = rest.slice(0, question);
  let netloc = '';
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    netloc = slash >= 0 ? rest.slice(2, slash) : rest.slice(2);
    rest = slash >= 0 ? rest.slice(slash) : '';
  }
  return { netloc, path: rest, query, fragment };
}

function validateValues(values: Record<string, unknown>): void {
  const fail = (message: string) => {
    throw ValidationError.field('values', message);
  };
  for (const [key, value] of Object.entries(values)) {
    if (!CONFIG_KEY.test(key)) fail('Config keys must start with a letter or underscore and only contain [A-z0-9_]');
    if (value === null) continue;
    const text = asConfigString(value);
    if (key === 'PORT') {
      if (!/^[0-9]+$/.test(text)) fail('PORT can only be a numeric value');
      const port = Number(text);
      if (port < 1 || port > 65535) fail('PORT needs to be between 1 and 65535');
    } else if (key === 'HEALTHCHECK_URL') {
      const url = splitUrl(text);
      if (url.path === '') fail(`${key} is missing a URI path (such as /healthz). Only the path is accepted`);
      if (url.netloc || url.query || url.fragment) {
        fail(`${key} can only be a URI path (such as /healthz). Queries, fragments and netloc are not supported`);
      }
    } else if (key.startsWith('HEALTHCHECK_')) {
      if (!/^\s*[-+]?[0-9]+\s*$/.test(text)) fail(`${key} must be a numeric value`);
    }
  }
}

function validateLimits(field: 'memory' | 'cpu', limits: Record<string, unknown>): void {
  for (const [procType, value] of Object.entries(limits)) {
    if (value === null) continue;
    if (!PROC_TYPE.test(procType)) throw ValidationError.field(field, 'Process types can only contain alphanumeric');
    const text = asConfigString(value);
    if (field === 'memory' && !MEMORY.test(text)) {
      throw ValidationError.field(field, 'Memory limit format: <number><unit> or <number><unit>/<number><unit>, where unit = B, K, M or G');
    }
    if (field === 'cpu' && !CPU.test(text)) {
      throw ValidationError.field(field, 'CPU limit format: <value> or <value>/<value>, where value must be a numeric');
    }
  }
}

function validateTags(tags: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(tags)) {
    if (value === null) continue;
    const slash = key.indexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : null;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (prefix !== null) {
      if (prefix.length > 253) throw ValidationError.field('tags', 'Tag key prefixes must 253 characters or less.');
      if (!prefix.split('.').every((label) => TAG_VALUE.test(label))) throw ValidationError.field('tags', 'Tag key prefixes must be DNS subdomains.');
    }
    if (!TAG_VALUE.test(name)) throw ValidationError.field('tags', 'Tag keys must be alphanumeric or "-_.", and 1-63 characters.');
    const text = asConfigString(value);
    if (text !== '' && !TAG_VALUE.test(text)) throw ValidationError.field('tags', 'Tag values must be alphanumeric or "-_.", and 1-63 characters.');
  }
}

function validateRegistry(registry: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(registry)) {
    if (value === null) continue;
    if (!CONFIG_KEY.test(key)) throw ValidationError.field('registry', 'Config keys must start with a letter or underscore and only contain [A-z0-9_]');
  }
}

/** Why a probe breaks the Kubernetes probe schema that Deis validates against; null when it is fine. */
function probeProblem(probe: unknown): string | null {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const integer = (v: unknown, name: string, minimum?: number): string | null => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return `${JSON.stringify(v)} is not of type 'integer' (${name})`;
    if (minimum !== undefined && v < minimum) return `${v} is less than the minimum of ${minimum} (${name})`;
    return null;
  };
  if (!isObject(probe)) return `${JSON.stringify(probe)} is not of type 'object'`;
  for (const [name, minimum] of [
    ['initialDelaySeconds', undefined],
    ['timeoutSeconds', 1],
    ['periodSeconds', 1],
    ['successThreshold', 1],
    ['failureThreshold', 1],
  ] as const) {
    if (probe[name] !== undefined) {
      const problem = integer(probe[name], name, minimum);
      if (problem) return problem;
    }
  }
  if (probe.exec !== undefined) {
    if (!isObject(probe.exec)) return `'exec' is not of type 'object'`;
    const command = probe.exec.command;
    if (command === undefined) return `'command' is a required property`;
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) {
      return `'command' must be a non-empty array of strings`;
    }
  }
  if (probe.httpGet !== undefined) {
    const get = probe.httpGet;
    if (!isObject(get)) return `'httpGet' is not of type 'object'`;
    if (get.port === undefined) return `'port' is a required property`;
    const port = integer(get.port, 'port');
    if (port) return port;
    for (const name of ['path', 'host', 'scheme'] as const) {
      if (get[name] !== undefined && typeof get[name] !== 'string') return `${JSON.stringify(get[name])} is not of type 'string' (${name})`;
    }
    if (get.httpHeaders !== undefined) {
      if (!Array.isArray(get.httpHeaders)) return `'httpHeaders' is not of type 'array'`;
      for (const header of get.httpHeaders) {
        if (!isObject(header) || (header.name !== undefined && typeof header.name !== 'string') || (header.value !== undefined && typeof header.value !== 'string')) {
          return `${JSON.stringify(header)} is not a valid header`;
        }
      }
    }
  }
  if (probe.tcpSocket !== undefined) {
    if (!isObject(probe.tcpSocket)) return `'tcpSocket' is not of type 'object'`;
    if (probe.tcpSocket.port === undefined) return `'port' is a required property`;
    const port = integer(probe.tcpSocket.port, 'port');
    if (port) return port;
  }
  return null;
}

/** Accepts `{type: {livenessProbe, readinessProbe}}`, and the older flat `{livenessProbe, readinessProbe}` for `web/cmd`. */
function validateHealthcheck(raw: Record<string, unknown>): Record<string, Record<string, Probe | null> | null> {
  const byType = PROBE_KINDS.some((kind) => kind in raw) ? { 'web/cmd': raw } : raw;
  const result: Record<string, Record<string, Probe | null> | null> = {};
  for (const [procType, probes] of Object.entries(byType)) {
    if (probes === null) {
      result[procType] = null;
      continue;
    }
    if (typeof probes !== 'object' || Array.isArray(probes)) {
      throw ValidationError.field('healthcheck', `could not validate ${JSON.stringify(probes)}: it is not of type 'object'`);
    }
    const checked: Record<string, Probe | null> = {};
    for (const [kind, probe] of Object.entries(probes as Record<string, unknown>)) {
      if (!(PROBE_KINDS as readonly string[]).includes(kind)) {
        throw ValidationError.field('healthcheck', 'Healthcheck keys must be either livenessProbe or readinessProbe');
      }
      if (probe === null) {
        checked[kind] = null;
        continue;
      }
      const problem = probeProblem(probe);
      if (problem) throw ValidationError.field('healthcheck', `could not validate ${JSON.stringify(probe)}: ${problem}`);
      checked[kind] = probe as Probe;
    }
    const threshold = (checked.livenessProbe as Probe | null | undefined)?.successThreshold;
    if (threshold !== undefined && threshold !== 1) throw ValidationError.field('healthcheck', 'livenessProbe successThreshold can only be 1');
    result[procType] = checked;
  }
  return result;
}

function flatField(body: Record<string, unknown>, field: FlatField): Record<string, string | null> | undefined {
  const raw = body[field];
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw ValidationError.field(field, 'Must be a dictionary.');
  const record = raw as Record<string, unknown>;
  if (field === 'values') validateValues(record);
  else if (field === 'memory' || field === 'cpu') validateLimits(field, record);
  else if (field === 'tags') validateTags(record);
  else validateRegistry(record);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === null ? null : asConfigString(v)]));
}

/**
 * Validates the fields of a config POST whose JSON fields are already objects (see `jsonField`).
 * Throws `ValidationError.field(<field>, …)` with Deis's messages.
 */
export function parseConfigChange(fields: Partial<Record<keyof ConfigChange, Record<string, unknown> | undefined>>): ConfigChange {
  const change: ConfigChange = {};
  for (const field of FLAT_FIELDS) {
    const parsed = flatField(fields as Record<string, unknown>, field);
    if (parsed !== undefined) change[field] = parsed;
  }
  if (fields.healthcheck !== undefined) change.healthcheck = validateHealthcheck(fields.healthcheck);
  return change;
}

function mergeFlat(attr: FlatField, previous: Record<string, string>, change: Record<string, string | null> | undefined): Record<string, string> {
  const merged = { ...previous };
  for (const [key, value] of Object.entries(change ?? {})) {
    if (value === null) {
      if (!(key in merged)) throw new UnprocessableError(`${key} does not exist under ${attr}`);
      delete merged[key];
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

function integerOr(values: Record<string, string>, key: string, fallback: number): number {
  const raw = values[key];
  return raw === undefined ? fallback : Number.parseInt(raw, 10);
}

/** Deis v1's `HEALTHCHECK_*` values become a `web/cmd` liveness and readiness probe and leave `values`. */
function rollOverLegacyHealthcheck(values: Record<string, string>, healthcheck: Record<string, Record<string, Probe | null> | null>): Record<string, string> {
  if (!('HEALTHCHECK_URL' in values)) return values;
  const probe: Probe = {
    initialDelaySeconds: integerOr(values, 'HEALTHCHECK_INITIAL_DELAY', 50),
    timeoutSeconds: integerOr(values, 'HEALTHCHECK_TIMEOUT', 50),
    periodSeconds: integerOr(values, 'HEALTHCHECK_PERIOD_SECONDS', 10),
    successThreshold: integerOr(values, 'HEALTHCHECK_SUCCESS_THRESHOLD', 1),
    failureThreshold: integerOr(values, 'HEALTHCHECK_FAILURE_THRESHOLD', 3),
    httpGet: { path: values.HEALTHCHECK_URL ?? '/', port: integerOr(values, 'PORT', 5000) },
  };
  healthcheck['web/cmd'] = { livenessProbe: probe, readinessProbe: { ...probe, httpGet: { ...probe.httpGet } } };
  return Object.fromEntries(Object.entries(values).filter(([key]) => !key.startsWith('HEALTHCHECK_')));
}

function mergeHealthcheck(
  previous: Record<string, Healthcheck>,
  change: Record<string, Record<string, Probe | null> | null>,
): Record<string, Healthcheck> {
  const merged: Record<string, Record<string, Probe>> = {};
  for (const [procType, probes] of Object.entries(previous)) merged[procType] = { ...(probes as Record<string, Probe>) };
  for (const [procType, probes] of Object.entries(change)) {
    if (probes === null) {
      if (!(procType in merged)) throw new UnprocessableError(`${procType} does not exist under healthcheck`);
      delete merged[procType];
      continue;
    }
    for (const [kind, probe] of Object.entries(probes)) {
      if (probe === null) {
        if (!merged[procType] || !(kind in merged[procType])) throw new UnprocessableError(`${procType} does not exist under healthcheck`);
        delete merged[procType][kind];
      } else {
        merged[procType] = { ...merged[procType], [kind]: probe };
      }
    }
  }
  for (const procType of Object.keys(merged)) if (Object.keys(merged[procType] ?? {}).length === 0) delete merged[procType];
  return merged as Record<string, Healthcheck>;
}

/** Tags must all be labels of at least one node (each node's labels, or the one host's), or no container could run. */
function checkTags(tags: Record<string, string>, previousTags: Record<string, string>, nodeLabels: Record<string, string> | Array<Record<string, string>>): void {
  const entries = Object.entries(tags);
  const nodes = Array.isArray(nodeLabels) ? nodeLabels : [nodeLabels];
  if (entries.length === 0 || nodes.some((labels) => entries.every(([key, value]) => labels[key] === value))) return;
  const labels = entries.map(([key, value]) => `${key}=${value}`);
  let message = `No nodes matched the provided labels: ${labels.join(', ')}`;
  const old = Object.entries(previousTags).map(([key, value]) => `${key}=${value}`);
  if (old.length > 0) {
    const added = labels.filter((label) => !old.includes(label));
    if (added.length > 0) message += ` - Addition of ${added.join(', ')} is the cause`;
  }
  throw new ValidationError(message);
}

/**
 * The config that results from applying `change` to `previous`.
 * Throws 422 when unsetting a key that is not set, 400 for registry info without PORT or tags no node has.
 */
export function mergeConfig(previous: ConfigData, change: ConfigChange, nodeLabels: Record<string, string> | Array<Record<string, string>>): ConfigData {
  const healthcheckChange: Record<string, Record<string, Probe | null> | null> = { ...(change.healthcheck ?? {}) };
  let values = mergeFlat('values', previous.values, change.values);
  values = rollOverLegacyHealthcheck(values, healthcheckChange);
  const registry = Object.fromEntries(Object.entries(mergeFlat('registry', previous.registry, change.registry)).map(([k, v]) => [k.toLowerCase(), v]));
  if (Object.keys(registry).length > 0 && values.PORT === undefined) {
    throw new ValidationError('PORT needs to be set in the config when using a private registry');
  }
  const tags = mergeFlat('tags', previous.tags, change.tags);
  // Only a change of tags is checked, so that relabelling the host never blocks unrelated config changes.
  if (change.tags !== undefined) checkTags(tags, previous.tags, nodeLabels);
  return {
    values,
    memory: mergeFlat('memory', previous.memory, change.memory),
    cpu: mergeFlat('cpu', previous.cpu, change.cpu),
    tags,
    registry,
    healthcheck: mergeHealthcheck(previous.healthcheck, healthcheckChange),
  };
}
