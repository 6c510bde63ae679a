import { ApiError } from '@deis/sdk/client';
import { describe, expect, it } from 'vitest';
import { CliError, NotLoggedInError, UsageError } from './cli-errors.ts';
import { reportError } from './error-report.ts';

describe('error reports', () => {
  it('gives the exit codes of the contract', () => {
    expect(reportError(new CliError('x')).exitCode).toBe(1);
    expect(reportError(new UsageError('x')).exitCode).toBe(2);
    expect(reportError(new NotLoggedInError()).exitCode).toBe(3);
    expect(reportError(new ApiError(401, { detail: 'Invalid token.' }, 'Invalid token.'))).toMatchObject({ message: 'Unauthorized: Missing or Invalid Token', exitCode: 3 });
  });

  it('words controller errors as the Deis SDK does', () => {
    expect(reportError(new ApiError(404, 'No App matches the given query.', '')).message).toBe('"No App matches the given query."');
    expect(reportError(new ApiError(403, { detail: 'You do not have permission to perform this action.' }, '')).message).toBe('You do not have permission to perform this action.');
    expect(reportError(new ApiError(422, { detail: 'FOO does not exist under values' }, '')).message).toBe('Unable to process your request: FOO does not exist under values');
    expect(reportError(new ApiError(500, { detail: 'Server Error' }, '')).message).toBe('Internal Server Error');
    expect(reportError(new ApiError(400, { image: ['This field may not be blank.'] }, '')).message).toBe('image: This field may not be blank.');
    expect(reportError(new ApiError(400, { id: ['Application with this id already exists.'] }, '')).message).toBe('Application with this id already exists.');
    expect(reportError(new ApiError(418, 'teapot', '')).message).toBe('Unknown Error (418): teapot');
    expect(reportError(new ApiError(503, '<html><title>Site Maintenance</title><body>x</body></html>', '')).message).toBe("The server answered 503 (Site Maintenance) instead of the controller's API.");
  });

  it('explains an unreachable controller', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(reportError(refused)).toMatchObject({ message: 'Could not reach the controller: connect ECONNREFUSED 127.0.0.1:9', exitCode: 1 });
    expect(reportError(refused).hint).toContain('deis whoami');
  });
});
