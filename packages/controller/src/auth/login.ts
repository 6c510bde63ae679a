/**
 * Checking a username and password, behind the login throttle. An unknown username costs the same scrypt work as a
 * wrong password, so response times do not tell which usernames exist.
 * @module
 */
import { DeisError, ValidationError } from '@deis/core/errors';
import type { Database } from '../db/schema.ts';
import { hashPassword, verifyPassword } from '../users/password.ts';
import { findUserByUsername } from '../users/user-store.ts';
import type { UserRow } from '../users/user-store.ts';
import type { LoginAttempt, LoginThrottle } from './login-throttle.ts';

export const BAD_CREDENTIALS = 'Unable to log in with provided credentials.';

/** Too many failures: the route answers 429 with `Retry-After`. */
export class ThrottledError extends DeisError {
  constructor(readonly retryAfterSeconds: number) {
    super('permission', `Too many failed login attempts. Try again in ${retryAfterSeconds} seconds.`, { code: 'throttled' });
  }
}

let dummyHash: Promise<string> | undefined;

/** Makes the stand-in hash ahead of the first login, so that first unknown username is not slower than the rest. */
export function prepareLogin(): Promise<string> {
  dummyHash ??= hashPassword('not-a-password-of-anyone');
  return dummyHash;
}

/** Throws a ThrottledError if the attempt is blocked; counts a wrong password as a failure. */
export async function checkPassword(db: Database, throttle: LoginThrottle, attempt: LoginAttempt, password: string): Promise<UserRow | null> {
  const wait = throttle.retryAfterSeconds(attempt);
  if (wait > 0) throw new ThrottledError(wait);
  const user = await findUserByUsername(db, attempt.username);
  const matches = await verifyPassword(password, user?.password_hash ?? (await prepareLogin()));
  if (!user || !matches || !user.is_active) {
    throttle.recordFailure(attempt);
    return null;
  }
  throttle.recordSuccess(attempt);
  return user;
}

/** The 400 every failed login gets, whatever the reason, as DRF's token view gives it. */
export function badCredentials(): ValidationError {
  return new ValidationError(BAD_CREDENTIALS, { fields: { non_field_errors: [BAD_CREDENTIALS] } });
}
