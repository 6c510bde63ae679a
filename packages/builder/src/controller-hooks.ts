/**
 * The builder's calls to the controller: the builder-key hooks (who owns an SSH key, an app's config, report a build)
 * and, for smart-HTTP pushes, the pusher's own token (who they are, whether they may use the app). Given several
 * controllers (DEIS_CONTROLLER_URL with commas), a call the controller did not answer (refused, reset, cut off before
 * its outcome) goes to the next one; the build hook carries a request id, so that its retry finishes the release the
 * first controller made rather than making a second (ADR 0021).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ApiClient, ApiError, errorMessageOf, warningTexts } from '@deis/sdk/client';
import { controllerUrls } from '@deis/sdk/controller-urls';
import { BUILD_HOOK_STREAM_TYPE } from '@deis/sdk/types';
import type { App, BuildHookRequest, BuildHookResponse, BuildHookStreamLine, Config, KeyHookResponse, User } from '@deis/sdk/types';

/** The app when the user may use it (its uuid binds the repository, repositories.ts). */
export type AppAccess = { uuid: string } | 'forbidden' | 'missing';

export class ControllerHooks {
  readonly #controllerUrls: string[];
  readonly #builderKey: string;
  readonly #builders: ApiClient[];
  /** The controller calls go to first: the last one that answered. */
  #current = 0;

  /** @param controllerUrl one controller's base URL, or several separated by commas */
  constructor(controllerUrl: string, builderKey: string) {
    this.#controllerUrls = controllerUrls(controllerUrl);
    if (this.#controllerUrls.length === 0) throw new Error('no controller URL given');
    this.#builderKey = builderKey;
    this.#builders = this.#controllerUrls.map((baseUrl) => new ApiClient({ baseUrl, builderKey, userAgent: 'deis-builder', timeoutMs: 30_000 }));
  }

  get #builder(): ApiClient {
    return this.#builders[this.#current]!;
  }

  /**
   * Runs `call` on the current controller, and on each next one while the one asked did not answer: an answer, even
   * an error status, is the controller's word and is not asked again.
   */
  async #failingOver<T>(call: (index: number) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let tried = 0; tried < this.#controllerUrls.length; tried++) {
      const index = this.#current;
      try {
        return await call(index);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        lastError = error;
        if (this.#current === index) this.#current = (index + 1) % this.#controllerUrls.length;
      }
    }
    throw lastError;
  }

  /** The owner of the key with this fingerprint and the apps they may push to; null when no user has the key. */
  async keyOwner(fingerprint: string): Promise<KeyHookResponse | null> {
    try {
      const { data } = await this.#failingOver(() => this.#builder.request<KeyHookResponse>('GET', `/v2/hooks/key/${encodeURIComponent(fingerprint)}`));
      return data;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** The app's current config; the controller answers 403 when the user may not use the app, 404 when it is unknown. */
  async config(user: string, app: string): Promise<Config> {
    const { data } = await this.#failingOver(() => this.#builder.request<Config>('POST', '/v2/hooks/config/', { body: { receive_user: user, receive_repo: app } }));
    return data;
  }

  /** The app's uuid; the controller answers 403 when the user may not use the app, 404 when it is unknown. */
  async app(user: string, app: string): Promise<{ uuid: string }> {
    const { data } = await this.#failingOver(() => this.#builder.request<{ uuid: string }>('POST', '/v2/hooks/app/', { body: { receive_user: user, receive_repo: app } }));
    return { uuid: data.uuid };
  }

  /** Whether a build of the app may read the image; throws the controller's 400/403 with its reason when not. */
  async image(user: string, app: string, image: string): Promise<void> {
    await this.#failingOver(() => this.#builder.request('POST', '/v2/hooks/image/', { body: { receive_user: user, receive_repo: app, image } }));
  }

  /**
   * Reports a finished build; the controller creates and deploys the release. The answer is asked for as a stream
   * (hooks/build-hook-stream.ts in the controller): `onOutput` hears the release phase's output while the release
   * deploys, `onWarning` what the deploy warns of (new containers that are not ready yet). Rejects with the ApiError
   * the plain answer would have given.
   */
  async build(body: BuildHookRequest, onOutput: (text: string) => void, onWarning?: (text: string) => void): Promise<BuildHookResponse> {
    const request = { ...body, request_id: body.request_id ?? randomUUID() };
    return this.#failingOver(() => this.#buildOnce(request, onOutput, onWarning));
  }

  async #buildOnce(body: BuildHookRequest, onOutput: (text: string) => void, onWarning?: (text: string) => void): Promise<BuildHookResponse> {
    const response = await fetch(this.#builder.url('/v2/hooks/build/'), {
      method: 'POST',
      headers: {
        accept: `${BUILD_HOOK_STREAM_TYPE}, application/json`,
        'content-type': 'application/json',
        'user-agent': 'deis-builder',
        'x-deis-builder-auth': this.#builderKey,
      },
      body: JSON.stringify(body),
      // The release phase may take up to an hour (DEIS_RELEASE_PHASE_TIMEOUT's most, Heroku's limit), then the deploy.
      signal: AbortSignal.timeout(75 * 60_000),
    });
    // Refusals made before the work starts (unknown app, bad body) are plain answers, and so is every answer of a
    // controller that does not stream.
    if (!(response.headers.get('content-type') ?? '').startsWith(BUILD_HOOK_STREAM_TYPE)) {
      const warning = response.headers.get('warning');
      if (warning && onWarning) for (const text of warningTexts(warning)) onWarning(text);
      const text = await response.text();
      let data: unknown = text === '' ? undefined : text;
      try {
        data = JSON.parse(text);
      } catch {
        // not JSON: the raw text is the body
      }
      if (!response.ok) throw new ApiError(response.status, data, errorMessageOf(data));
      return data as BuildHookResponse;
    }
    let outcome: { status: number; body: unknown } | null = null;
    let pending = '';
    const decoder = new TextDecoder();
    const take = (line: string) => {
      if (line.trim() === '') return;
      const parsed = JSON.parse(line) as BuildHookStreamLine;
      if ('output' in parsed) onOutput(parsed.output);
      else if ('warning' in parsed) onWarning?.(parsed.warning);
      else outcome = parsed;
    };
    for await (const chunk of response.body ?? []) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) take(line);
    }
    take(pending + decoder.decode());
    const result = outcome as { status: number; body: unknown } | null;
    if (!result) throw new Error('the controller ended the build hook answer without an outcome');
    if (result.status >= 400) throw new ApiError(result.status, result.body, errorMessageOf(result.body));
    return result.body as BuildHookResponse;
  }

  /** The user a token belongs to; null when the token is not valid. */
  async whoami(token: string): Promise<User | null> {
    try {
      const { data } = await this.#failingOver(() => this.#userClient(token).request<User>('GET', '/v2/auth/whoami/'));
      return data;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
      throw error;
    }
  }

  /** Whether the token's user may use the app (owner, collaborator or admin), asked the way the CLI would ask. */
  async appAccess(token: string, app: string): Promise<AppAccess> {
    try {
      const { data } = await this.#failingOver(() => this.#userClient(token).request<App>('GET', `/v2/apps/${encodeURIComponent(app)}/`));
      return { uuid: data.uuid };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return 'missing';
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return 'forbidden';
      throw error;
    }
  }

  #userClient(token: string): ApiClient {
    return new ApiClient({ baseUrl: this.#controllerUrls[this.#current]!, token, userAgent: 'deis-builder', timeoutMs: 30_000 });
  }
}
