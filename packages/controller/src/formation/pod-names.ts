/**
 * Container names, which the wire contract calls pod names: `{app}-{type}-{digits}-{5 of [a-z0-9]}`, the Kubernetes
 * Deployment naming that the Deis CLI's `ps:restart <pod>` parsing and the e2e regexes depend on.
 * @module
 */
import { createHash, randomInt } from 'node:crypto';

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The digits part: fixed per app, release and type (as a pod-template hash is), so the pods of one rollout share it
 * and a new release shows new digits. Eight to ten digits.
 */
export function podTemplateHash(appUuid: string, version: number, type: string): string {
  const value = createHash('sha256').update(`${appUuid}/v${version}/${type}`).digest().readUInt32BE(0);
  return String(value).padStart(8, '0');
}

function randomSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return suffix;
}

export function newPodName(appId: string, type: string, templateHash: string): string {
  return `${appId}-${type}-${templateHash}-${randomSuffix()}`;
}

/** One-off containers: `{app}-run-{5 of [a-z0-9]}`, as Deis names them in its run event. */
export function runPodName(appId: string): string {
  return `${appId}-run-${randomSuffix()}`;
}

/** The last dash-separated part of a pod name, which the logger shows in `<app>[<type>.<vN>.<suffix>]`. */
export function podSuffix(name: string): string {
  return name.slice(name.lastIndexOf('-') + 1);
}
