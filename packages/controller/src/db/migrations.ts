/**
 * The one set of migrations, for SQLite and PostgreSQL alike. Add a migration by appending to `migrations`; never edit
 * one that has shipped.
 * @module
 */
import { Migrator, sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

function initialSchema(dialect: Dialect): Migration {
  // The only difference between the two stores: how an integer key generates itself.
  const serial = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('first_name', 'text', (c) => c.notNull())
        .addColumn('last_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('is_superuser', 'integer', (c) => c.notNull())
        .addColumn('is_staff', 'integer', (c) => c.notNull())
        .addColumn('is_active', 'integer', (c) => c.notNull())
        .addColumn('last_login', 'text')
        .addColumn('date_joined', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('keys')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('public', 'text', (c) => c.notNull().unique())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('keys_fingerprint').on('keys').column('fingerprint').execute();

      await db.schema
        .createTable('apps')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('structure', 'text', (c) => c.notNull())
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('perms')
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('perms_pk', ['app_uuid', 'user_id'])
        .execute();

      // Tables of versioned rows per app: newest first is the common read.
      for (const [table, columns] of [
        ['configs', ['values', 'memory', 'cpu', 'tags', 'registry', 'healthcheck']],
        ['app_settings', ['whitelist', 'autoscale', 'label']],
      ] as const) {
        let create = db.schema
          .createTable(table)
          .addColumn('uuid', 'text', (c) => c.primaryKey())
          .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
          .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'));
        if (table === 'app_settings') {
          create = create.addColumn('maintenance', 'integer', (c) => c.notNull()).addColumn('routable', 'integer', (c) => c.notNull());
        }
        for (const column of columns) create = create.addColumn(column, 'text', (c) => c.notNull());
        await create.addColumn('created', 'text', (c) => c.notNull()).addColumn('updated', 'text', (c) => c.notNull()).execute();
        await db.schema.createIndex(`${table}_app_created`).on(table).columns(['app_uuid', 'created']).execute();
      }

      await db.schema
        .createTable('builds')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('image', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('procfile', 'text', (c) => c.notNull())
        .addColumn('dockerfile', 'text', (c) => c.notNull())
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('builds_app_created').on('builds').columns(['app_uuid', 'created']).execute();

      await db.schema
        .createTable('releases')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('failed', 'integer', (c) => c.notNull())
        .addColumn('config_uuid', 'text', (c) => c.notNull().references('configs.uuid'))
        .addColumn('build_uuid', 'text', (c) => c.references('builds.uuid'))
        .addColumn('exception', 'text')
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .addUniqueConstraint('releases_app_version', ['app_uuid', 'version'])
        .execute();

      await db.schema
        .createTable('certs')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('certificate', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('common_name', 'text')
        .addColumn('san', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('expires', 'text', (c) => c.notNull())
        .addColumn('starts', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('domains')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('domain', 'text', (c) => c.notNull().unique())
        .addColumn('cert_id', 'integer', (c) => c.references('certs.id').onDelete('set null'))
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tls')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('https_enforced', 'integer')
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tls_app_created').on('tls').columns(['app_uuid', 'created']).execute();

      await db.schema
        .createTable('log_lines')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('line', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('log_lines_app_id').on('log_lines').columns(['app_uuid', 'id']).execute();
    },
  };
}

/**
 * A token per login instead of per user: only hashes are stored, so a login cannot hand back an existing token, and
 * replacing it would log the user out everywhere else.
 */
function tokenPerLogin(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('tokens_per_login')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created', 'text', (c) => c.notNull())
        .execute();
      await sql`INSERT INTO tokens_per_login (token_hash, user_id, created) SELECT token_hash, user_id, created FROM tokens`.execute(db);
      await db.schema.dropTable('tokens').execute();
      await db.schema.alterTable('tokens_per_login').renameTo('tokens').execute();
      await db.schema.createIndex('tokens_user_created').on('tokens').columns(['user_id', 'created']).execute();
    },
  };
}

/** The app list of a non-admin filters apps by owner and by collaborator; without these it reads every app. */
function appListIndexes(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('apps_owner').on('apps').column('owner_id').execute();
      await db.schema.createIndex('perms_user').on('perms').column('user_id').execute();
    },
  };
}

/** Marks the releases whose deploy is in progress, so one a crash interrupted can be failed on the next start. */
function releaseDeploying(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('releases').addColumn('deploying', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}

/** Log drains (ADR 0012): where an app's log lines are also sent, syslog or HTTPS. */
function logDrains(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('log_drains')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('app_uuid', 'text', (c) => c.notNull().references('apps.uuid').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('created', 'text', (c) => c.notNull())
        .addUniqueConstraint('log_drains_app_url', ['app_uuid', 'url'])
        .execute();
    },
  };
}

/**
 * The rollout state routing depends on, shared by every controller of a store (ADR 0021): containers kept out of the
 * routers' tables, the store-wide count of routing changes, each controller's routers' confirmations, and the
 * builder's request id of each build (its hook retried on another controller finds the build).
 */
function sharedRollout(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rollout_marks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('mark', 'text', (c) => c.notNull())
        .addColumn('created', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('routing_changes')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .execute();
      await sql`INSERT INTO routing_changes (id, count) VALUES (1, 0)`.execute(db);
      await db.schema
        .createTable('router_confirmations')
        .addColumn('controller', 'text', (c) => c.primaryKey())
        .addColumn('change', 'bigint', (c) => c.notNull())
        .addColumn('seen', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('builds').addColumn('request_id', 'text').execute();
      await db.schema.createIndex('builds_request').on('builds').columns(['app_uuid', 'request_id']).execute();
    },
  };
}

const migrations: Record<string, (dialect: Dialect) => Migration> = {
  '0001_initial_schema': initialSchema,
  '0002_token_per_login': tokenPerLogin,
  '0003_app_list_indexes': appListIndexes,
  '0004_release_deploying': releaseDeploying,
  '0005_log_drains': logDrains,
  '0006_shared_rollout': sharedRollout,
};

/** Brings the store up to the newest migration; safe to call on every start. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = {
    getMigrations: async () => Object.fromEntries(Object.entries(migrations).map(([name, make]) => [name, make(dialect)])),
  };
  if (dialect === 'sqlite') await sql`PRAGMA foreign_keys = ON`.execute(db);
  // Kysely looks for its own tables in every schema unless told which: a second store in the same database (the
  // tests' schemas) would otherwise take the first one's for its own and fail.
  const schema = dialect === 'postgres' ? (await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)).rows[0]?.schema : undefined;
  const { error, results } = await new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed`, { cause: error });
  }
}
