/**
 * Reading and changing an app's config (values, tags, registry, limits): one object, each change making a release,
 * that the `config:*`, `tags:*`, `registry:*` and `limits:*` topics share.
 * @module
 */
import type { Config } from '@deis/sdk/types';
import type { Session } from './command-context.ts';

export async function getConfig(session: Session, app: string): Promise<Config> {
  return (await session.client.request<Config>('GET', `/v2/apps/${app}/config/`)).data;
}

export async function postConfig(session: Session, app: string, change: Partial<Record<keyof Config, unknown>>): Promise<Config> {
  return (await session.client.request<Config>('POST', `/v2/apps/${app}/config/`, { body: change })).data;
}
