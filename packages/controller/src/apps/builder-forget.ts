/**
 * Tells the builder that an app is destroyed, so that it removes the app's git repository, build cache volume and kept
 * slugs (`DELETE /apps/<app>?uuid=` on its HTTP side, with the builder key). Best effort: the destroy stands when the
 * builder cannot be reached, and the builder binds repositories to app uuids, so a later app of that name still never
 * sees the old history; only the disk stays used until then.
 * @module
 */
import type { ControllerSettings } from '../settings.ts';

export async function forgetAppInBuilder(
  settings: Pick<ControllerSettings, 'builderKey' | 'builderHttpUpstream'>,
  app: { id: string; uuid: string },
  onError: (error: unknown) => void,
): Promise<void> {
  const upstream = settings.builderHttpUpstream;
  if (!upstream) return;
  const url = `http://${upstream.host}:${upstream.port}/apps/${encodeURIComponent(app.id)}?uuid=${encodeURIComponent(app.uuid)}`;
  try {
    const response = await fetch(url, { method: 'DELETE', headers: { 'x-deis-builder-auth': settings.builderKey }, signal: AbortSignal.timeout(30_000) });
    if (response.status !== 204) throw new Error(`the builder answered ${response.status}: ${(await response.text()).trim()}`);
  } catch (error) {
    onError(error);
  }
}
