/**
 * A small HTTP client for the controller's API, shared by the CLI and the services. It sends the token or the builder
 * key, parses JSON, and turns every non-2xx answer into an ApiError.
 * @module
 */
import { API_VERSION } from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  /** The parsed body: a `{detail}` object, a field dictionary, a JSON string (404), or raw text. */
  readonly body: unknown;

  constructor(status: number, body: unknown, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** The human sentence in a Deis error body: `detail`, the first field message, the 404 string, or the raw text. */
export function errorMessageOf(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === 'string') return record.detail;
    for (const value of Object.values(record)) {
      if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
      if (typeof value === 'string') return value;
    }
  }
  return JSON.stringify(body);
}

/** The quoted texts of a `Warning` header (`199 agent "text", 299 other "more"`), unescaped. */
export function warningTexts(header: string): string[] {
  return [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!.replace(/\\(.)/g, '$1'));
}

export interface ClientOptions {
  /** e.g. `http://deis.localhost` */
  baseUrl: string;
  token?: string;
  /** Sent as `X-Deis-Builder-Auth`, for the platform's own services. */
  builderKey?: string;
  userAgent?: string;
  /** Called with the server's DEIS_API_VERSION when it differs from ours (or is missing). */
  onVersionMismatch?: (serverVersion: string | null) => void;
  /**
   * Called with the text of each HTTP `Warning` the server sends (`199 deis "…"`), e.g. that a release is current but
   * its new containers are not ready yet.
   */
  onWarning?: (text: string) => void;
  timeoutMs?: number;
  /** Replaces the global fetch, e.g. to reach `*.localhost` hosts at 127.0.0.1 or to skip TLS verification. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export class ApiClient {
  readonly options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(path, this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.options.userAgent ?? `Deis Client TS ${API_VERSION}` };
    if (this.options.token) headers.authorization = `token ${this.options.token}`;
    if (this.options.builderKey) headers['x-deis-builder-auth'] = this.options.builderKey;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const signal = options.signal ?? (this.options.timeoutMs ? AbortSignal.timeout(this.options.timeoutMs) : undefined);
    const response = await (this.options.fetch ?? fetch)(this.url(path, options.query), { method, headers, body, signal });
    const serverVersion = response.headers.get('deis_api_version');
    if (serverVersion !== API_VERSION) this.options.onVersionMismatch?.(serverVersion);
    const warning = response.headers.get('warning');
    if (warning && this.options.onWarning) for (const text of warningTexts(warning)) this.options.onWarning(text);
    const text = await response.text();
    let data: unknown = text;
    if (text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    } else {
      data = undefined;
    }
    if (!response.ok) throw new ApiError(response.status, data, errorMessageOf(data));
    return { status: response.status, headers: response.headers, data: data as T };
  }
}
