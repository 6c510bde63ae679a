/**
 * App names: the rules a given name must follow (they become host names and container names), and the
 * `adjective-noun` names made up when `apps:create` gets none.
 * @module
 */
import { randomInt } from 'node:crypto';
import { ValidationError } from '@deis/core/errors';

/** The platform routes these names itself (`deis.<domain>` is the controller, `deis-builder.<domain>` the builder). */
export const RESERVED_APP_NAMES: readonly string[] = ['deis', 'deis-builder', 'deis-workflow-manager', 'grafana'];

const APP_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const MAX_LENGTH = 63;

/** Throws the contract's `{"id": [...]}` messages for a name that may not be used. */
export function checkAppName(id: string): void {
  if (id.length > MAX_LENGTH) throw ValidationError.field('id', `Ensure this field has no more than ${MAX_LENGTH} characters.`);
  if (!APP_NAME.test(id)) {
    throw ValidationError.field(
      'id',
      'App name must start with an alphabetic character, cannot end with a hyphen and can only contain a-z (lowercase), 0-9 and hyphens.',
    );
  }
  if (RESERVED_APP_NAMES.includes(id)) throw ValidationError.field('id', `${id} is a reserved name.`);
}

const ADJECTIVES = [
  'amber', 'bouncy', 'brave', 'breezy', 'bright', 'calm', 'chilly', 'clever', 'cosmic', 'crisp', 'dapper', 'daring',
  'dusty', 'eager', 'early', 'fancy', 'fluffy', 'frosty', 'gentle', 'giddy', 'golden', 'grassy', 'happy', 'hidden',
  'humble', 'icy', 'jolly', 'jumpy', 'keen', 'lively', 'lucky', 'mellow', 'misty', 'modest', 'nimble', 'noble',
  'oaken', 'polar', 'proud', 'quiet', 'rapid', 'rustic', 'salty', 'shiny', 'silent', 'sleepy', 'smoky', 'snowy',
  'sunny', 'swift', 'tidy', 'tranquil', 'vivid', 'wandering', 'witty', 'zesty',
];

const NOUNS = [
  'anchor', 'badger', 'beacon', 'bison', 'boulder', 'breeze', 'canyon', 'cactus', 'comet', 'cricket', 'delta',
  'dolphin', 'ember', 'falcon', 'fjord', 'gazelle', 'glacier', 'harbor', 'heron', 'island', 'jaguar', 'kettle',
  'lantern', 'lagoon', 'meadow', 'meteor', 'nebula', 'otter', 'orchard', 'pebble', 'pelican', 'prairie', 'quasar',
  'raven', 'reef', 'saddle', 'sequoia', 'summit', 'tiger', 'tundra', 'umbrella', 'valley', 'volcano', 'walrus',
  'willow', 'yak', 'zephyr',
];

/** A random `adjective-noun` name; the caller retries on the rare clash with an existing app. */
export function generateAppName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}`;
}
