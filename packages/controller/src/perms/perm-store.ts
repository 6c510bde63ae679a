/**
 * Collaborators of apps (the `use_app` permission of Deis) in the store.
 * @module
 */
import { storeTime } from '../clock.ts';
import type { Database } from '../db/schema.ts';

/** Usernames of the app's collaborators, alphabetically; the owner is not one unless granted. */
export async function listCollaborators(db: Database, appUuid: string): Promise<string[]> {
  const rows = await db
    .selectFrom('perms')
    .innerJoin('users', 'users.id', 'perms.user_id')
    .select('users.username')
    .where('perms.app_uuid', '=', appUuid)
    .orderBy('users.username')
    .execute();
  return rows.map((row) => row.username);
}

/** Granting twice is harmless. */
export async function grantUse(db: Database, appUuid: string, userId: number): Promise<void> {
  await db
    .insertInto('perms')
    .values({ app_uuid: appUuid, user_id: userId, created: storeTime() })
    .onConflict((oc) => oc.columns(['app_uuid', 'user_id']).doNothing())
    .execute();
}

export async function revokeUse(db: Database, appUuid: string, userId: number): Promise<void> {
  await db.deleteFrom('perms').where('app_uuid', '=', appUuid).where('user_id', '=', userId).execute();
}
