/**
 * Reading and changing an app's settings (maintenance, routable, whitelist, autoscale, label): one versioned object
 * that several command topics share.
 * @module
 */
import type { AppSettings } from '@deis/sdk/types';
import type { Session } from './command-context.ts';

export async function getSettings(session: Session, app: string): Promise<AppSettings> {
  return (await session.client.request<AppSettings>('GET', `/v2/apps/${app}/settings/`)).data;
}

export async function postSettings(session: Session, app: string, change: Partial<Record<keyof AppSettings, unknown>>): Promise<AppSettings> {
  return (await session.client.request<AppSettings>('POST', `/v2/apps/${app}/settings/`, { body: change })).data;
}
