import type { Kysely } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import type { Database } from './schema.js';
import { machinePolicies } from './machinePoliciesMigration.js';
import { referencesById } from './referencesByIdMigration.js';
import { identity } from './identityMigration.js';
import { pollWaiters } from './pollWaitersMigration.js';
import { NAME_KEY_SQL_FUNCTION } from '../resources/names.js';
import { runMigrationSql } from './migrationSql.js';
import { schemaVersionOf } from './schemaVersion.js';

/** SQL statements separated by `;`, or a function for what SQL alone cannot do (Unicode, JSON rewrites). */
type Migration = string | ((db: Kysely<Database>) => Promise<void>);

/**
 * Ordered, append-only, written in SQLite's SQL and translated for PostgreSQL (postgresMigrationSql.ts);
 * functions run their statements through runMigrationSql. Each runs once in its own transaction; the
 * applied count is kept by schemaVersion.ts. Never edit a shipped migration: add one.
 */
const migrations: Migration[] = [
  `
  CREATE TABLE environments (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE worker_pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT NOT NULL, is_default INTEGER NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE workers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, credential_hash TEXT NOT NULL UNIQUE, executor TEXT NOT NULL, version TEXT NOT NULL,
    pools TEXT NOT NULL, capacity INTEGER NOT NULL, metadata TEXT NOT NULL, disabled INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, registered_at INTEGER NOT NULL);
  CREATE TABLE targets (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, type TEXT NOT NULL, environments TEXT NOT NULL, tags TEXT NOT NULL,
    properties TEXT NOT NULL, secret TEXT, created_at INTEGER NOT NULL);
  CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT NOT NULL, process TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE variables (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, position INTEGER NOT NULL, name TEXT NOT NULL,
    value TEXT NOT NULL, sensitive INTEGER NOT NULL, scope TEXT NOT NULL);
  CREATE INDEX variables_project ON variables(project_id, position);
  CREATE TABLE packages (package_id TEXT NOT NULL COLLATE NOCASE, version TEXT NOT NULL, format TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, path TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (package_id, version));
  CREATE TABLE releases (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, version TEXT NOT NULL, snapshot TEXT NOT NULL, notes TEXT NOT NULL,
    created_at INTEGER NOT NULL, UNIQUE (project_id, version));
  CREATE TABLE tasks (id TEXT PRIMARY KEY, kind TEXT NOT NULL, description TEXT NOT NULL, state TEXT NOT NULL, current_step INTEGER NOT NULL, failed INTEGER NOT NULL,
    cancel_requested INTEGER NOT NULL, error TEXT, context TEXT NOT NULL, log_seq INTEGER NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, completed_at INTEGER);
  CREATE INDEX tasks_state ON tasks(state);
  CREATE TABLE deployments (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, release_id TEXT NOT NULL REFERENCES releases(id),
    environment_id TEXT NOT NULL REFERENCES environments(id), task_id TEXT NOT NULL REFERENCES tasks(id), created_at INTEGER NOT NULL);
  CREATE TABLE operations (id TEXT PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, step_index INTEGER NOT NULL, step_name TEXT NOT NULL,
    target_id TEXT, target_name TEXT, pool_id TEXT NOT NULL, state TEXT NOT NULL, outcome TEXT, exit_code INTEGER, message TEXT, worker_id TEXT, lease_expires_at INTEGER,
    cancel_requested INTEGER NOT NULL, payload TEXT NOT NULL, acked_seq INTEGER NOT NULL, last_source INTEGER NOT NULL, progress INTEGER, progress_message TEXT,
    output_variables TEXT, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);
  CREATE INDEX operations_queue ON operations(pool_id, state, created_at);
  CREATE INDEX operations_task ON operations(task_id, step_index);
  CREATE INDEX operations_worker ON operations(worker_id, state);
  CREATE TABLE log_chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, operation_id TEXT, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, lines TEXT NOT NULL);
  CREATE INDEX log_chunks_task ON log_chunks(task_id, id);
  CREATE INDEX log_chunks_operation ON log_chunks(operation_id, first_seq);
  CREATE TABLE registration_tokens (hash TEXT PRIMARY KEY, pools TEXT NOT NULL, worker_name TEXT, expires_at INTEGER NOT NULL, used_at INTEGER, created_at INTEGER NOT NULL);
  CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, last_used_at INTEGER);
  `,
  // The lease sweeper looks for held operations by expiry; without this it scans every operation ever run.
  `
  CREATE INDEX operations_lease ON operations(state, lease_expires_at);
  `,
  // Names by one rule (NFC, case-insensitive, no control characters) and references by id.
  referencesById,
  // One row that readiness rewrites: proof that a commit reaches the disk (StoreHealth).
  `
  CREATE TABLE store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL);
  `,
  // A step's progress is read after every operation that ends. By state within the step it touches only the
  // operations in flight and takes waiting ones in order; by (task, step) alone it read all of them, and a
  // step on 10,000 targets became quadratic. The new index serves every lookup the old one did.
  `
  CREATE INDEX operations_step_state ON operations(task_id, step_index, state, created_at);
  DROP INDEX operations_task;
  `,
  // Machine policies say how often workers are checked and what happens to those that fail; a
  // worker's health is what its last check found. A health check is a task of its own (its log).
  machinePolicies,
  // When an operation joined its pool's queue: one held back by maxParallelism joins later than it was
  // planned, and the queue's oldest wait and the dispatch latency are measured from here.
  `
  ALTER TABLE operations ADD COLUMN queued_at INTEGER;
  `,
  // When a worker took the operation, and when its script itself began as the worker saw it: a task's
  // timeline shows the wait between them (for a slot, a node, an image) apart from the queue and the run.
  // And the pod a Kubernetes worker runs it in, for whoever goes looking with kubectl.
  `
  ALTER TABLE operations ADD COLUMN leased_at INTEGER;
  ALTER TABLE operations ADD COLUMN script_started_at INTEGER;
  ALTER TABLE operations ADD COLUMN script_pod TEXT;
  `,
  // The task of the check whose finding a worker shows, so its log is one lookup away: finding it among
  // the worker's checks sorted every check the worker ever had.
  `
  ALTER TABLE workers ADD COLUMN health_check_task_id TEXT;
  UPDATE workers SET health_check_task_id = (SELECT task_id FROM health_checks
    WHERE health_checks.worker_id = workers.id AND health_checks.state = 'finished' ORDER BY finished_at DESC LIMIT 1);
  `,
  // Who may do what: users, teams, roles scoped to projects and environments, sessions, keys that belong to users.
  identity,
  // What each deployment's operation used: each step's right-sizing recommendation is learnt from it.
  `
  CREATE TABLE operation_usage (operation_id TEXT PRIMARY KEY REFERENCES operations(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, step_name TEXT NOT NULL, pool_id TEXT NOT NULL,
    recorded_at INTEGER NOT NULL, samples INTEGER NOT NULL, peak_cpu_millis INTEGER NOT NULL, mean_cpu_millis INTEGER NOT NULL,
    peak_memory_bytes INTEGER NOT NULL, duration_seconds REAL NOT NULL, request_cpu_millis INTEGER, request_memory_bytes INTEGER,
    limit_cpu_millis INTEGER, limit_memory_bytes INTEGER, oom_killed INTEGER NOT NULL, throttled INTEGER NOT NULL);
  CREATE INDEX operation_usage_step ON operation_usage(project_id, step_name, recorded_at);
  `,
  // Single sign-ons under way, from the redirect to the provider until it sends the browser back:
  // kept in the store, not in memory, so any server behind a load balancer can finish one.
  `
  CREATE TABLE oidc_sign_ins (state_hash TEXT PRIMARY KEY, nonce TEXT NOT NULL, code_verifier TEXT NOT NULL,
    return_to TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX oidc_sign_ins_expires ON oidc_sign_ins(expires_at);
  `,
  // Webhooks and their deliveries: written in the transaction of the change they tell of, sent by a sweeper.
  // The sweeper takes each webhook's oldest due delivery (webhook, state, seq) among those due (state, time);
  // the log pages by (webhook, seq).
  `
  CREATE TABLE webhooks (id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
    enabled INTEGER NOT NULL, created_at INTEGER NOT NULL);
  CREATE UNIQUE INDEX webhooks_name_key ON webhooks(${NAME_KEY_SQL_FUNCTION}(name));
  CREATE TABLE webhook_deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE, event TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL, next_attempt_at INTEGER, last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER);
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
  CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(webhook_id, state, seq);
  CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, seq);
  CREATE INDEX webhook_deliveries_age ON webhook_deliveries(created_at);
  `,
  // The master key's check: every node of one database must seal and open with the same key.
  `
  CREATE TABLE master_key_check (id INTEGER PRIMARY KEY CHECK (id = 1), digest TEXT NOT NULL, created_at INTEGER NOT NULL);
  `,
  // Package bytes in the store (packageStorage database). Chunks are written under their upload's id and become a
  // package's content only when the row naming that id is committed, so a half-written upload is never read.
  // The blob goes last: a scan of the other columns (the leftover sweep) then skips its overflow pages.
  `
  CREATE TABLE package_contents (sha256 TEXT PRIMARY KEY, upload_id TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE package_chunks (upload_id TEXT NOT NULL, seq INTEGER NOT NULL, written_at INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (upload_id, seq));
  `,
  // Several server nodes on one database: each registers and heartbeats; a running task is advanced by the node
  // that holds its lease (another takes it over when that lease runs out); scheduled work runs under named leases.
  // The owner looks for the advances other nodes asked of it by (owner_node_id, advance_requested).
  `
  CREATE TABLE server_nodes (id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL, version TEXT NOT NULL,
    started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL, stopped_at INTEGER);
  ALTER TABLE tasks ADD COLUMN owner_node_id TEXT;
  ALTER TABLE tasks ADD COLUMN owner_lease_expires_at INTEGER;
  ALTER TABLE tasks ADD COLUMN advance_requested INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX tasks_owner ON tasks(owner_node_id, advance_requested);
  CREATE INDEX tasks_active_owner_lease ON tasks(state, owner_lease_expires_at);
  CREATE TABLE cluster_leases (name TEXT PRIMARY KEY, node_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
  `,
  pollWaiters,
];

/**
 * Applies the migrations not yet applied, up to `upTo` (all by default; tests stop earlier to build an
 * old store), each in its own transaction with the count it brings the store to.
 */
export async function migrate(db: Kysely<Database>, upTo = migrations.length): Promise<number> {
  const version = schemaVersionOf(db);
  for (let done = false; !done;) {
    done = await db.transaction().execute(async (trx) => {
      const applied = await version.lockAndRead(trx);
      if (applied > migrations.length)
        throw new LongshoreError(
          'STORE_UNAVAILABLE',
          `The store has ${applied} migrations applied, this server knows ${migrations.length}: a newer Longshore wrote it; run that version (or newer) on every node`,
          { applied, known: migrations.length },
        );
      if (applied >= upTo) return true;
      const migration = migrations[applied]!;
      if (typeof migration === 'function') await migration(trx);
      else
        for (const statement of migration
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean))
          await runMigrationSql(trx, statement);
      await version.write(trx, applied + 1);
      return false;
    });
  }
  return migrations.length;
}
