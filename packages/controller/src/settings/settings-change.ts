/**
 * How a settings request changes an app's settings (Deis's `AppSettings.save`): fields not sent keep their value;
 * `whitelist` replaces the list; `autoscale` and `label` merge per key, with `null` removing a key (422 when it is not
 * there); a request that changes nothing is a 409.
 * @module
 */
import { ConflictError, UnprocessableError, ValidationError } from '@deis/core/errors';
import type { Autoscale } from '@deis/sdk/types';
import { jsonField } from '../http/body.ts';
import { addressList } from '../whitelist/address.ts';
import type { SettingsValues } from './settings-store.ts';

const PROCESS_TYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const LABEL_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?$/;
const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', 'off', '0']);

export interface SettingsChange {
  next: SettingsValues;
  /** What changed, in words for the event log; empty means nothing changed. */
  changes: string[];
  /** Whether what the router serves changes (maintenance, routing, whitelist). */
  routingChanged: boolean;
}

/** DRF's boolean parsing; null or absent gives undefined (keep the previous value). */
export function booleanField(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const word = String(value).toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw ValidationError.field(field, `"${typeof value === 'string' ? value : JSON.stringify(value)}" is not a valid boolean.`);
}

function pythonRepr(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function autoscaleRule(proc: string, raw: unknown): Autoscale {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw ValidationError.field('autoscale', `${pythonRepr(raw)} is not of type 'object' for ${proc}`);
  const rule = raw as Record<string, unknown>;
  for (const property of ['min', 'max', 'cpu_percent'] as const) {
    if (!(property in rule)) throw ValidationError.field('autoscale', `'${property}' is a required property for ${proc}`);
    if (!Number.isInteger(rule[property])) throw ValidationError.field('autoscale', `${pythonRepr(rule[property])} is not of type 'integer' for ${proc}`);
  }
  const { min, max, cpu_percent: cpuPercent } = rule as unknown as Autoscale;
  if (min < 1) throw ValidationError.field('autoscale', `min must be at least 1 for ${proc}`);
  if (max < min) throw ValidationError.field('autoscale', `max must not be less than min for ${proc}`);
  if (cpuPercent < 1) throw ValidationError.field('autoscale', `cpu_percent must be at least 1 for ${proc}`);
  return { min, max, cpu_percent: cpuPercent };
}

/**
 * A request that merges per key (`autoscale`, `label`): every key must match its pattern, and its value is parsed, or
 * null to remove the key.
 */
function keyedRequest<T>(body: Record<string, unknown>, field: 'autoscale' | 'label', keys: { pattern: RegExp; noun: string }, valueOf: (key: string, raw: unknown) => T): Record<string, T | null> | undefined {
  const given = jsonField(body, field);
  if (given === undefined) return undefined;
  const request: Record<string, T | null> = {};
  for (const [key, raw] of Object.entries(given)) {
    if (!keys.pattern.test(key)) throw ValidationError.field(field, `${key} is not a valid ${keys.noun}`);
    request[key] = raw === null ? null : valueOf(key, raw);
  }
  return request;
}

function labelValue(key: string, raw: unknown): string {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw ValidationError.field('label', `The value of ${key} must be a string`);
}

/** Applies `null`-unsets and sets to a copy of `previous`. */
function mergeKeys<T>(previous: Record<string, T>, request: Record<string, T | null>, under: string): Record<string, T> {
  const merged = { ...previous };
  for (const [key, value] of Object.entries(request)) {
    if (value !== null) {
      merged[key] = value;
      continue;
    }
    if (!(key in merged)) throw new UnprocessableError(`${key} does not exist under ${under}`);
    delete merged[key];
  }
  return merged;
}

/** The words of a dict diff: `added X, Y`, `changed Z`, `deleted W`. */
function diffWords(previous: Record<string, unknown>, next: Record<string, unknown>, noun: string): string[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const added = Object.keys(next).filter((key) => !(key in previous));
  const changed = Object.keys(next).filter((key) => key in previous && !same(previous[key], next[key]));
  const deleted = Object.keys(previous).filter((key) => !(key in next));
  return [
    ...(added.length ? [`added ${noun} ${added.join(', ')}`] : []),
    ...(changed.length ? [`changed ${noun} ${changed.join(', ')}`] : []),
    ...(deleted.length ? [`deleted ${noun} ${deleted.join(', ')}`] : []),
  ];
}

/**
 * @param who the requester's username, for the 409 message.
 * @throws ValidationError (400) for a malformed field, UnprocessableError (422) for unsetting a missing key,
 *   ConflictError (409) when nothing changes.
 */
export function changeSettings(previous: SettingsValues, body: Record<string, unknown>, who: string): SettingsChange {
  const maintenance = booleanField(body, 'maintenance');
  const routable = booleanField(body, 'routable');
  const whitelist = body.whitelist === undefined || body.whitelist === null ? undefined : addressList(body.whitelist, 'whitelist');
  const autoscale = keyedRequest(body, 'autoscale', { pattern: PROCESS_TYPE, noun: 'process type' }, autoscaleRule);
  const label = keyedRequest(body, 'label', { pattern: LABEL_KEY, noun: 'label name' }, labelValue);

  const next: SettingsValues = {
    maintenance: maintenance ?? previous.maintenance,
    routable: routable ?? previous.routable,
    whitelist: whitelist ?? previous.whitelist,
    autoscale: autoscale ? mergeKeys(previous.autoscale, autoscale, 'autoscale') : previous.autoscale,
    label: label ? mergeKeys(previous.label, label, 'label') : previous.label,
  };

  const changes: string[] = [];
  if (next.maintenance !== previous.maintenance) changes.push(`changed maintenance mode from ${previous.maintenance} to ${next.maintenance}`);
  if (next.routable !== previous.routable) changes.push(`changed routable from ${previous.routable} to ${next.routable}`);
  const added = next.whitelist.filter((address) => !previous.whitelist.includes(address));
  const removed = previous.whitelist.filter((address) => !next.whitelist.includes(address));
  if (added.length) changes.push(`added ${added.join(', ')} to the whitelist`);
  if (removed.length) changes.push(`deleted ${removed.join(', ')} from the whitelist`);
  changes.push(...diffWords(previous.autoscale, next.autoscale, 'autoscale for process type'));
  changes.push(...diffWords(previous.label, next.label, 'label'));

  if (changes.length === 0) throw new ConflictError(`${who} changed nothing`);
  const routingChanged = next.maintenance !== previous.maintenance || next.routable !== previous.routable || added.length > 0 || removed.length > 0;
  return { next, changes, routingChanged };
}
