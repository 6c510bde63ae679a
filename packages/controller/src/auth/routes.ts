/**
 * `/v2/auth/…`: register, login, whoami, passwd, cancel and token regeneration (contract §1.2, deis/controller's
 * UserRegistrationViewSet, UserManagementViewSet and TokenManagementViewSet).
 * @module
 */
import { AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { currentUser, requestTokenHash } from '../http/auth.ts';
import { bodyOf, optionalString } from '../http/body.ts';
import { readNewUser } from '../users/registration.ts';
import {
  addToken,
  anyAdminExists,
  countAppsOwnedBy,
  countCertsOwnedBy,
  countUsers,
  deleteUser,
  findUserByUsername,
  insertUser,
  isLastAdmin,
  issueToken,
  recordLogin,
  revokeAllTokens,
  setPassword,
  toWireUser,
} from '../users/user-store.ts';
import type { UserRow } from '../users/user-store.ts';
import { badCredentials, checkPassword, prepareLogin, ThrottledError } from './login.ts';
import { LoginThrottle } from './login-throttle.ts';

const USERNAME_TAKEN = 'A user with that username already exists.';
const FIRST_USER_LOCAL = "The first user becomes the administrator and must register from the platform's own host";

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  return v4.startsWith('127.') || address === '::1';
}

/** A 429 is not one of the domain's error kinds: only these routes give it. */
async function unlessThrottled<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ThrottledError)) throw error;
    return reply.code(429).header('Retry-After', String(error.retryAfterSeconds)).send({ detail: error.message });
  }
}

/** A required string field whose absence is reported as `{"detail": "<field> is a required field"}`, as Deis does. */
function requiredDetail(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw new ValidationError(`${field} is a required field`);
  return value;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === 'string' && ['true', '1', 'yes', 'on'].includes(value.toLowerCase()));
}

/** The user a request names in `username`: the caller themself, or anyone when the caller is an admin. */
async function targetUser(deps: ControllerDeps, request: FastifyRequest, body: Record<string, unknown>): Promise<UserRow> {
  const caller = currentUser(request);
  const username = optionalString(body, 'username');
  if (username === undefined || username === caller.username) return caller;
  if (!caller.is_superuser) throw new PermissionDeniedError();
  const target = await findUserByUsername(deps.db, username);
  if (!target) throw NotFoundError.of('User');
  return target;
}

export async function authRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;
  const throttle = new LoginThrottle();
  void prepareLogin();

  /**
   * Registrations one at a time, from the check for an admin to the new row: two first registrations at once would
   * otherwise both see no admin and both become one. One controller process serves the store (ADR 5).
   */
  let registering: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const mine = registering.then(work);
    registering = mine.catch(() => undefined);
    return mine;
  };

  app.post('/v2/auth/register', { config: { auth: 'optional' } }, async (request, reply) => {
    const mode = deps.settings.registrationMode;
    if (mode === 'disabled') throw new PermissionDeniedError('Registration is disabled');
    const mayRegister = async (): Promise<boolean> => {
      const adminExists = await anyAdminExists(db);
      if (mode === 'admin_only' && adminExists && !request.user?.is_superuser) throw new PermissionDeniedError();
      // The first user becomes the admin of a fresh install, which anyone who reaches the router could otherwise
      // claim: only a client on the platform's own host may (the router passes the client's address on).
      if (!adminExists && !isLoopback(request.ip)) throw new PermissionDeniedError(FIRST_USER_LOCAL);
      return adminExists;
    };
    // Checked before the body, as Deis does, and again in turn, as another registration may have made an admin since.
    await mayRegister();
    const fields = readNewUser(bodyOf(request.body));
    const created = await oneAtATime(async () => {
      const adminExists = await mayRegister();
      if (await findUserByUsername(db, fields.username)) throw ValidationError.field('username', USERNAME_TAKEN);
      try {
        // is_superuser in the body is ignored.
        return (await insertUser(db, { ...fields, isSuperuser: !adminExists })).row;
      } catch (error) {
        // Two registrations of one name at once: the store's unique index decides.
        if (await findUserByUsername(db, fields.username)) throw ValidationError.field('username', USERNAME_TAKEN);
        throw error;
      }
    });
    const now = new Date();
    await recordLogin(db, created.id, now);
    return reply.code(201).send(toWireUser({ ...created, last_login: now.toISOString() }));
  });

  app.post('/v2/auth/login', { config: { auth: 'none' } }, async (request, reply) => {
    const body = bodyOf(request.body);
    const problems: Record<string, string[]> = {};
    for (const field of ['username', 'password']) {
      const value = body[field];
      if (value === undefined || value === null) problems[field] = ['This field is required.'];
      else if (typeof value !== 'string') problems[field] = ['Not a valid string.'];
      else if (value === '') problems[field] = ['This field may not be blank.'];
    }
    if (Object.keys(problems).length > 0) throw new ValidationError('Invalid login.', { fields: problems });
    const username = body.username as string;
    return unlessThrottled(reply, async () => {
      const user = await checkPassword(db, throttle, { username, address: request.ip }, body.password as string);
      if (!user) throw badCredentials();
      await recordLogin(db, user.id);
      // Only hashes are stored, so an existing token cannot be handed back: each login gets its own.
      return { token: await addToken(db, user.id) };
    });
  });

  app.get('/v2/auth/whoami', async (request) => toWireUser(currentUser(request)));

  app.post('/v2/auth/passwd', async (request, reply) => {
    const body = bodyOf(request.body);
    const newPassword = requiredDetail(body, 'new_password');
    const caller = currentUser(request);
    const target = await targetUser(deps, request, body);
    const password = optionalString(body, 'password');
    if (password === undefined && !caller.is_superuser) throw new ValidationError('password is a required field');
    return unlessThrottled(reply, async () => {
      if (password !== undefined) {
        const confirmed = await checkPassword(db, throttle, { username: target.username, address: request.ip }, password);
        if (!confirmed) throw new AuthenticationError('Current password does not match');
      }
      // The caller's own session stays; every other token of the target ends (an admin's reset ends them all).
      await setPassword(db, target.id, newPassword, target.id === caller.id ? requestTokenHash(request) : null);
      return { status: 'password set' };
    });
  });

  app.delete('/v2/auth/cancel', async (request, reply) => {
    const target = await targetUser(deps, request, bodyOf(request.body));
    if ((await countAppsOwnedBy(db, target.id)) > 0) {
      throw new ConflictError(`${target.username} still has applications assigned. Delete or transfer ownership`);
    }
    if ((await countCertsOwnedBy(db, target.id)) > 0) {
      throw new ConflictError(`${target.username} still has certificates assigned. Delete them first`);
    }
    if ((await isLastAdmin(db, target)) && (await countUsers(db)) > 1) {
      throw new ConflictError(`${target.username} is the only administrator. Make another user an administrator first`);
    }
    await deleteUser(db, target.id);
    return reply.code(204).send();
  });

  app.post('/v2/auth/tokens', async (request, reply) => {
    const body = bodyOf(request.body);
    const caller = currentUser(request);
    const all = truthy(body.all);
    if ((all || optionalString(body, 'username') !== undefined) && !caller.is_superuser) throw new PermissionDeniedError();
    if (all) {
      await revokeAllTokens(db);
      return reply.type('application/json').send('""');
    }
    const target = await targetUser(deps, request, body);
    return { token: await issueToken(db, target.id) };
  });
}
