import type { Kysely } from 'kysely';
import { runMigrationSql } from './migrationSql.js';
import { NAME_KEY_SQL_FUNCTION } from '../resources/names.js';
import type { Database } from './schema.js';

/** The default policy's id: fixed, so every store has the same one and config as code can name it. */
export const DEFAULT_MACHINE_POLICY_ID = 'machine-policy-default';

export async function machinePolicies(db: Kysely<Database>): Promise<void> {
  for (const statement of [
    `CREATE TABLE machine_policies (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
      health_check_interval_seconds INTEGER NOT NULL, health_check_timeout_seconds INTEGER NOT NULL,
      unavailable_action TEXT NOT NULL, delete_after_hours INTEGER, updates TEXT NOT NULL,
      is_default INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
    `CREATE UNIQUE INDEX machine_policies_name_key ON machine_policies(${NAME_KEY_SQL_FUNCTION}(name))`,
    `ALTER TABLE workers ADD COLUMN machine_policy_id TEXT REFERENCES machine_policies(id)`,
    `ALTER TABLE worker_pools ADD COLUMN machine_policy_id TEXT REFERENCES machine_policies(id)`,
    `ALTER TABLE workers ADD COLUMN health TEXT NOT NULL DEFAULT 'unknown'`,
    `ALTER TABLE workers ADD COLUMN health_reasons TEXT NOT NULL DEFAULT '[]'`,
    `ALTER TABLE workers ADD COLUMN health_facts TEXT NOT NULL DEFAULT '{}'`,
    `ALTER TABLE workers ADD COLUMN health_checked_at INTEGER`,
    `ALTER TABLE workers ADD COLUMN offline_at INTEGER`,
    `CREATE TABLE health_checks (id TEXT PRIMARY KEY, worker_id TEXT NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
      task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, state TEXT NOT NULL, timeout_seconds INTEGER NOT NULL,
      requested_at INTEGER NOT NULL, sent_at INTEGER, deadline_at INTEGER, finished_at INTEGER)`,
    `CREATE INDEX health_checks_worker ON health_checks(worker_id, state)`,
  ])
    await runMigrationSql(db, statement);
  await db
    .insertInto('machine_policies')
    .values({
      id: DEFAULT_MACHINE_POLICY_ID,
      name: 'Default',
      description: 'Used by every worker and pool that names no other policy',
      health_check_interval_seconds: 600,
      health_check_timeout_seconds: 60,
      unavailable_action: 'keep',
      delete_after_hours: null,
      updates: 'manual',
      is_default: 1,
      created_at: Date.now(),
    })
    .execute();
}
