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

/** Ids of the apps a user may use (owner or collaborator; an admin, every app), ordered by id. */
export async function appIdsUsableBy(db: Database, user: { id: number; is_superuser: number }): Promise<string[]> {
  let query = db.selectFrom('apps').select('apps.id').orderBy('apps.id');
  if (!user.is_superuser) {
    query = query.where((eb) =>
      eb.or([eb('apps.owner_id', '=', user.id), eb.exists(eb.selectFrom('perms').select('perms.user_id').whereRef('perms.app_uuid', '=', 'apps.uuid').where('perms.user_id', '=', user.id))]),
    );
  }
  return (await query.execute()).map((row) => row.id);
}

/** Ids of the active users who may use the app: its owner, its collaborators and the admins. */
export async function userIdsWhoMayUse(db: Database, app: { uuid: string; owner_id: number }): Promise<number[]> {
  const rows = await db
    .selectFrom('users')
    .select('users.id')
    .where('users.is_active', '=', 1)
    .where((eb) =>
      eb.or([
        eb('users.id', '=', app.owner_id),
        eb('users.is_superuser', '=', 1),
        eb.exists(eb.selectFrom('perms').select('perms.user_id').whereRef('perms.user_id', '=', 'users.id').where('perms.app_uuid', '=', app.uuid)),
      ]),
    )
    .execute();
  return rows.map((row) => row.id);
}
