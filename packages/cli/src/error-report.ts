/**
 * Turning any failure into the `Error: <message>` line (plus a hint line) and the exit code. Controller errors are
 * worded as the Deis v2 CLI words them (its SDK's mapping of status codes), so scripts that match them keep working.
 * @module
 */
import { ApiError } from '@deis/sdk/client';
import { CliError } from './cli-errors.ts';

export interface ErrorReport {
  message: string;
  hint?: string;
  exitCode: number;
}

function bodyMessages(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === 'string') return record.detail;
    const lines = Object.entries(record).flatMap(([field, value]) => {
      const messages = Array.isArray(value) ? value.map(String) : [String(typeof value === 'object' ? JSON.stringify(value) : value)];
      // Sentences such as "This field may not be blank." say nothing without the field's name.
      return messages.map((message) => (field !== 'non_field_errors' && /^this field|^ensure this field/i.test(message) ? `${field}: ${message}` : message));
    });
    if (lines.length > 0) return lines.join('\n');
  }
  return body === undefined ? '' : JSON.stringify(body);
}

function apiErrorReport(error: ApiError): ErrorReport {
  // An HTML page (a proxy's 502, the router's maintenance page) is no message; say what answered instead.
  if (typeof error.body === 'string' && /^\s*</.test(error.body) && error.status !== 404) {
    const title = /<title>([^<]*)<\/title>/i.exec(error.body)?.[1]?.trim();
    return { message: `The server answered ${error.status}${title ? ` (${title})` : ''} instead of the controller's API.`, hint: "Check the controller URL with 'deis whoami'.", exitCode: error.status === 401 ? 3 : 1 };
  }
  switch (error.status) {
    case 401:
      return { message: 'Unauthorized: Missing or Invalid Token', hint: "Run 'deis login <controller>' to log in again.", exitCode: 3 };
    case 403:
      return { message: typeof (error.body as { detail?: unknown })?.detail === 'string' ? (error.body as { detail: string }).detail : 'You do not have permission to perform this action.', exitCode: 1 };
    case 404:
      // The controller's 404 body is a JSON string; the Deis CLI prints it as it came, quotes included.
      return { message: typeof error.body === 'string' ? JSON.stringify(error.body) : bodyMessages(error.body) || 'Not Found', exitCode: 1 };
    case 422:
      return { message: `Unable to process your request: ${bodyMessages(error.body)}`, exitCode: 1 };
    case 500:
      return { message: 'Internal Server Error', hint: 'The controller failed; its log says why.', exitCode: 1 };
    case 400:
    case 405:
    case 409:
    case 503:
      return { message: bodyMessages(error.body), exitCode: 1 };
    default:
      return { message: `Unknown Error (${error.status}): ${typeof error.body === 'string' ? error.body : JSON.stringify(error.body ?? '')}`, exitCode: 1 };
  }
}

function networkCode(error: unknown): string | undefined {
  const direct = (error as { code?: unknown }).code;
  if (typeof direct === 'string') return direct;
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

export function reportError(error: unknown): ErrorReport {
  if (error instanceof CliError) return { message: error.message, hint: error.hint, exitCode: error.exitCode };
  if (error instanceof ApiError) return apiErrorReport(error);
  const code = networkCode(error);
  if (code && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code)) {
    const tls = /CERT|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO/.test(code);
    return {
      message: `Could not reach the controller: ${(error as Error).message}`,
      hint: tls ? 'The certificate was not trusted; log in with --ssl-verify=false to skip the check.' : "Check the controller URL ('deis whoami') and that the controller is running.",
      exitCode: 1,
    };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return { message: 'The controller did not answer in time.', exitCode: 1 };
  return { message: error instanceof Error ? error.message : String(error), exitCode: 1 };
}
