import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { dialectOf } from './sqlDialect.js';

/**
 * Idle worker polls that have free slots, one row per pool they wait on, so that the node that
 * queues work can pick the longest-waiting polls on any node (dispatch/clusterWakeups.ts).
 * PostgreSQL only: SQLite runs one node, which keeps its waiting polls in memory.
 *
 * UNLOGGED: the rows live as long as a poll (seconds), so they are not worth a write-ahead log
 * entry each, and after a database crash the polls they describe are gone too (PostgreSQL empties
 * an unlogged table then, which is what we want).
 */
export async function pollWaiters(db: Kysely<Database>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  for (const statement of [
    `CREATE UNLOGGED TABLE poll_waiters (waiter_id TEXT NOT NULL, pool_id TEXT NOT NULL, node_id TEXT NOT NULL,
      worker_id TEXT NOT NULL, free INTEGER NOT NULL, since BIGINT NOT NULL, expires_at BIGINT NOT NULL,
      PRIMARY KEY (waiter_id, pool_id))`,
    `CREATE INDEX poll_waiters_pool ON poll_waiters(pool_id, since)`,
    `CREATE INDEX poll_waiters_node ON poll_waiters(node_id)`,
  ])
    await sql.raw(statement).execute(db);
}
