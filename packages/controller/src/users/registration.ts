/**
 * What a registration must carry, with the messages of Django's user model and DRF (contract §1.1 "How the SDK reads
 * errors"): every problem of every field is reported at once, as DRF does.
 * @module
 */
import { ValidationError } from '@deis/core/errors';
import type { NewUser } from './user-store.ts';

const USERNAME = /^[\w.@+-]+$/;
const USERNAME_MAX = 150;
const NAME_MAX = 150;
const PASSWORD_MAX = 128;
export const INVALID_USERNAME = 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.';
export const INVALID_EMAIL = 'Enter a valid email address.';

/** Close to Django's EmailValidator: a dot-atom local part, and a domain of DNS labels (or a bracketed address). */
const EMAIL = /^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}|\[[0-9a-fA-F:.]+\])$/;

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}

function text(body: Record<string, unknown>, field: string, problems: Record<string, string[]>): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems[field] = ['Not a valid string.'];
    return undefined;
  }
  return String(value);
}

export function readNewUser(body: Record<string, unknown>): Omit<NewUser, 'isSuperuser'> {
  const problems: Record<string, string[]> = {};
  const username = text(body, 'username', problems);
  const password = text(body, 'password', problems);
  const email = text(body, 'email', problems)?.trim() ?? '';
  const firstName = text(body, 'first_name', problems) ?? '';
  const lastName = text(body, 'last_name', problems) ?? '';

  if (username === undefined) problems.username ??= ['This field is required.'];
  else if (username.trim() === '') problems.username = ['This field may not be blank.'];
  else if (username.length > USERNAME_MAX) problems.username = [`Ensure this field has no more than ${USERNAME_MAX} characters.`];
  else if (!USERNAME.test(username)) problems.username = [INVALID_USERNAME];

  if (password === undefined) problems.password ??= ['This field is required.'];
  else if (password === '') problems.password = ['This field may not be blank.'];
  else if (password.length > PASSWORD_MAX) problems.password = [`Ensure this field has no more than ${PASSWORD_MAX} characters.`];

  if (email !== '' && !isValidEmail(email)) problems.email = [INVALID_EMAIL];
  if (firstName.length > NAME_MAX) problems.first_name = [`Ensure this field has no more than ${NAME_MAX} characters.`];
  if (lastName.length > NAME_MAX) problems.last_name = [`Ensure this field has no more than ${NAME_MAX} characters.`];

  const fields = Object.keys(problems);
  if (fields.length > 0) throw new ValidationError(problems[fields[0]!]![0]!, { fields: problems });
  return { username: username!, password: password!, email, firstName, lastName };
}
