import type { Kysely } from 'kysely';
import { runMigrationSql } from './migrationSql.js';
import { NAME_KEY_SQL_FUNCTION } from '../resources/names.js';
import { BUILT_IN_ROLES } from '../identity/permissions.js';
import { builtInRoleId } from '../identity/roleIds.js';
import type { Database } from './schema.js';

/**
 * Users, teams, roles and what a team may do where; sessions for the portal; API keys that belong
 * to a user and can expire or be revoked; the audit log. The first start after this makes the administrator and
 * gives it the keys that exist (startup/administrator.ts): they were all administrators' before.
 */
export async function identity(db: Kysely<Database>): Promise<void> {
  for (const statement of [
    `CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, display_name TEXT NOT NULL, email TEXT, password_hash TEXT,
      oidc_issuer TEXT, oidc_subject TEXT, disabled INTEGER NOT NULL, failed_sign_ins INTEGER NOT NULL, locked_until INTEGER,
      last_sign_in_at INTEGER, created_at INTEGER NOT NULL)`,
    `CREATE UNIQUE INDEX users_name_key ON users(${NAME_KEY_SQL_FUNCTION}(name))`,
    `CREATE UNIQUE INDEX users_oidc ON users(oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL`,
    `CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, created_at INTEGER NOT NULL)`,
    `CREATE UNIQUE INDEX teams_name_key ON teams(${NAME_KEY_SQL_FUNCTION}(name))`,
    `CREATE TABLE team_members (team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (team_id, user_id))`,
    `CREATE INDEX team_members_user ON team_members(user_id)`,
    `CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, permissions TEXT NOT NULL,
      built_in INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
    `CREATE UNIQUE INDEX roles_name_key ON roles(${NAME_KEY_SQL_FUNCTION}(name))`,
    `CREATE TABLE team_roles (id TEXT PRIMARY KEY, team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      role_id TEXT NOT NULL REFERENCES roles(id), projects TEXT, environments TEXT)`,
    `CREATE INDEX team_roles_team ON team_roles(team_id)`,
    `CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
      address TEXT NOT NULL)`,
    `ALTER TABLE api_keys ADD COLUMN user_id TEXT REFERENCES users(id) ON DELETE CASCADE`,
    `ALTER TABLE api_keys ADD COLUMN expires_at INTEGER`,
    `ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER`,
    `ALTER TABLE api_keys ADD COLUMN permissions TEXT`,
    `CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, actor_user_id TEXT,
      via TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, object_kind TEXT, object TEXT, outcome TEXT NOT NULL,
      status INTEGER NOT NULL, changes TEXT, detail TEXT)`,
    `CREATE INDEX audit_events_at ON audit_events(at)`,
    `CREATE INDEX audit_events_actor ON audit_events(actor, id)`,
    `CREATE INDEX audit_events_object ON audit_events(object, id)`,
    `CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`,
  ])
    await runMigrationSql(db, statement);
  const t = Date.now();
  await db
    .insertInto('roles')
    .values(
      Object.entries(BUILT_IN_ROLES).map(([name, role]) => ({
        id: builtInRoleId(name),
        name,
        description: role.description,
        permissions: '[]',
        built_in: 1,
        created_at: t,
      })),
    )
    .execute();
}
