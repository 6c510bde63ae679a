/**
 * `/v2/keys/`: the caller's own SSH keys, which authenticate their `git push` (contract §1.2, `deis keys:*`).
 * Another user's key is 404, as if it did not exist.
 * @module
 */
import { NotFoundError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { currentUser } from '../http/auth.ts';
import { bodyOf } from '../http/body.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { countKeysOf, deleteKey, findKeyOf, insertKey, keyIdTaken, listKeysOf, publicKeyInUse, toWireKey } from './key-store.ts';
import { parsePublicKey } from './public-key.ts';
import type { PublicKey } from './public-key.ts';

const ID_MAX = 128;
/**
 * The key line is unique, so indexed, and PostgreSQL cannot index a value of more than about 2,700 bytes (a longer one
 * was a 500 there); 4096-bit RSA keys take about 750 characters, 8192-bit ones about 1,400.
 */
const PUBLIC_MAX = 2048;
export const KEY_ID_TAKEN = 'SSH Key with this id already exists.';
export const KEY_IN_USE = 'Public Key is already in use';

function requiredText(body: Record<string, unknown>, field: string, problems: Record<string, string[]>): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) problems[field] = ['This field is required.'];
  else if (typeof value !== 'string') problems[field] = ['Not a valid string.'];
  else if (value.trim() === '') problems[field] = ['This field may not be blank.'];
  else return value;
  return undefined;
}

export async function keyRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get('/v2/keys', async (request) => {
    const user = currentUser(request);
    const window = pageWindow(request);
    const [count, rows] = await Promise.all([countKeysOf(db, user.id), listKeysOf(db, user.id, window)]);
    return toPage(request, window, count, rows.map((row) => toWireKey(row, user.username)));
  });

  app.post('/v2/keys', async (request, reply) => {
    const user = currentUser(request);
    const body = bodyOf(request.body);
    // Every field's problems at once, as DRF reports them.
    const problems: Record<string, string[]> = {};
    const id = requiredText(body, 'id', problems);
    if (id !== undefined && id.length > ID_MAX) problems.id = [`Ensure this field has no more than ${ID_MAX} characters.`];
    else if (id !== undefined && (await keyIdTaken(db, id))) problems.id = [KEY_ID_TAKEN];
    let text = requiredText(body, 'public', problems)?.trim();
    if (text !== undefined && text.length > PUBLIC_MAX) {
      problems.public = [`Ensure this field has no more than ${PUBLIC_MAX} characters.`];
      text = undefined;
    }
    let key: PublicKey | undefined;
    if (text !== undefined) {
      try {
        key = parsePublicKey(text);
      } catch (error) {
        if (!(error instanceof ValidationError) || !error.fields) throw error;
        Object.assign(problems, error.fields);
      }
      if (key && (await publicKeyInUse(db, text, key.fingerprint))) problems.public = [KEY_IN_USE];
    }
    const fields = Object.keys(problems);
    if (fields.length > 0 || !key || id === undefined || text === undefined) throw new ValidationError(problems[fields[0]!]?.[0] ?? 'Invalid key.', { fields: problems });

    let row;
    try {
      row = await insertKey(db, { ownerId: user.id, id, public: text, fingerprint: key.fingerprint });
    } catch (error) {
      // The same key or name sent twice at once: the store's unique indexes decide.
      if (await keyIdTaken(db, id)) throw ValidationError.field('id', KEY_ID_TAKEN);
      if (await publicKeyInUse(db, text, key.fingerprint)) throw ValidationError.field('public', KEY_IN_USE);
      throw error;
    }
    return reply.code(201).send(toWireKey(row, user.username));
  });

  app.get<{ Params: { id: string } }>('/v2/keys/:id', async (request) => {
    const user = currentUser(request);
    const row = await findKeyOf(db, user.id, request.params.id);
    if (!row) throw NotFoundError.of('Key');
    return toWireKey(row, user.username);
  });

  app.delete<{ Params: { id: string } }>('/v2/keys/:id', async (request, reply) => {
    const user = currentUser(request);
    const row = await findKeyOf(db, user.id, request.params.id);
    if (!row) throw NotFoundError.of('Key');
    await deleteKey(db, row.uuid);
    return reply.code(204).send();
  });
}
