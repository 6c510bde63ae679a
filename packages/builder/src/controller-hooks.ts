/**
 * The builder's calls to the controller: the builder-key hooks (who owns an SSH key, an app's config, report a build)
 * and, for smart-HTTP pushes, the pusher's own token (who they are, whether they may use the app).
 * @module
 */
import { ApiClient, ApiError } from '@deis/sdk/client';
import type { App, BuildHookRequest, BuildHookResponse, Config, KeyHookResponse, User } from '@deis/sdk/types';

export type AppAccess = 'allowed' | 'forbidden' | 'missing';

export class ControllerHooks {
  readonly #controllerUrl: string;
  readonly #builderKey: string;
  readonly #builder: ApiClient;

  constructor(controllerUrl: string, builderKey: string) {
    this.#controllerUrl = controllerUrl;
    this.#builderKey = builderKey;
    this.#builder = new ApiClient({ baseUrl: controllerUrl, builderKey, userAgent: 'deis-builder', timeoutMs: 30_000 });
  }

  /** The owner of the key with this fingerprint and the apps they may push to; null when no user has the key. */
  async keyOwner(fingerprint: string): Promise<KeyHookResponse | null> {
    try {
      const { data } = await this.#builder.request<KeyHookResponse>('GET', `/v2/hooks/key/${encodeURIComponent(fingerprint)}`);
      return data;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** The app's current config; the controller answers 403 when the user may not use the app, 404 when it is unknown. */
  async config(user: string, app: string): Promise<Config> {
    const { data } = await this.#builder.request<Config>('POST', '/v2/hooks/config/', { body: { receive_user: user, receive_repo: app } });
    return data;
  }

  /**
   * Reports a finished build; the controller creates and deploys the release. `onWarning` hears what the deploy
   * warns of (new containers that are not ready yet), for the pusher.
   */
  async build(body: BuildHookRequest, onWarning?: (text: string) => void): Promise<BuildHookResponse> {
    const client = onWarning
      ? new ApiClient({ baseUrl: this.#controllerUrl, builderKey: this.#builderKey, userAgent: 'deis-builder', timeoutMs: 30_000, onWarning })
      : this.#builder;
    const { data } = await client.request<BuildHookResponse>('POST', '/v2/hooks/build/', { body, signal: AbortSignal.timeout(15 * 60_000) });
    return data;
  }

  /** The user a token belongs to; null when the token is not valid. */
  async whoami(token: string): Promise<User | null> {
    try {
      const { data } = await this.#userClient(token).request<User>('GET', '/v2/auth/whoami/');
      return data;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
      throw error;
    }
  }

  /** Whether the token's user may use the app (owner, collaborator or admin), asked the way the CLI would ask. */
  async appAccess(token: string, app: string): Promise<AppAccess> {
    try {
      await this.#userClient(token).request<App>('GET', `/v2/apps/${encodeURIComponent(app)}/`);
      return 'allowed';
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return 'missing';
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return 'forbidden';
      throw error;
    }
  }

  #userClient(token: string): ApiClient {
    return new ApiClient({ baseUrl: this.#controllerUrl, token, userAgent: 'deis-builder', timeoutMs: 30_000 });
  }
}
