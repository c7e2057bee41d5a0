import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';
import { dialectOf, lockedForUpdate } from './sqlDialect.js';
import type { Store } from './database.js';

/**
 * The order in which writers take row locks on PostgreSQL, so that no two transactions ever wait
 * on each other in a circle (a deadlock, which PostgreSQL ends by failing one of them):
 *
 *   1. a task's row, before any operation's row; several tasks' rows in the order of their ids;
 *   2. several operations' rows in the order of their ids.
 *
 * A transaction that takes locks only in that order cannot be part of a circle. What takes one row
 * only (a statement updating one operation or one task by id) waits at most once, before it holds
 * anything, and is safe anyway. Leasing skips locked rows instead of waiting for them (dispatcher.ts).
 * Taken here: the log append (taskLog.ts, the task then its operation), stopping and failing a
 * task's operations (taskEnding.ts), each write that advances a task (taskRunner.ts, whose first
 * statement takes the task's lease and so its row: cluster/taskLeases.ts), the leases' restart grace (dispatcher.ts); in one statement,
 * with operationsInIdOrder, releasing waiting operations (stepOperations.ts) and renewing a
 * worker's leases (dispatcher.ts), which run after every operation and every poll; renewing,
 * taking over and releasing the leases of tasks and picking up the advances asked of a node
 * (cluster/taskLeases.ts), which touch several tasks and no operation.
 *
 * SQLite runs one write transaction at a time on the server's one connection: there is no
 * circle to avoid, and these lock nothing.
 */

/** Locks the task's row until the transaction ends: step 1 of the order. */
export async function lockTask(trx: Store, taskId: string): Promise<void> {
  await lockedForUpdate(trx, trx.selectFrom('tasks').select('id').where('id', '=', taskId)).execute();
}

/**
 * Locks the operations `select` finds, in id order, until the transaction ends: step 2. A write of
 * the same rows that follows in the transaction then waits for nothing.
 */
export async function lockOperations(
  trx: Store,
  select: (
    query: SelectQueryBuilder<Database, 'operations', { id: string }>,
  ) => SelectQueryBuilder<Database, 'operations', { id: string }>,
): Promise<void> {
  if (dialectOf(trx) === 'sqlite') return;
  await lockedForUpdate(trx, select(trx.selectFrom('operations').select('id')).orderBy('id')).execute();
}

/**
 * Locks the tasks `select` finds, in id order, until the transaction ends: step 1 for several tasks;
 * with `skipLocked`, those another transaction holds are passed over. Answers the ids it locked.
 */
export async function lockTasks(
  trx: Store,
  select: (
    query: SelectQueryBuilder<Database, 'tasks', { id: string }>,
  ) => SelectQueryBuilder<Database, 'tasks', { id: string }>,
  options: { skipLocked?: boolean } = {},
): Promise<string[]> {
  const rows = await lockedForUpdate(
    trx,
    select(trx.selectFrom('tasks').select('id')).orderBy('id'),
    options,
  ).execute();
  return rows.map((r) => r.id);
}

/**
 * The ids `select` finds, locked in id order as the statement that uses them runs: step 2 in one
 * statement, for the `where('id', 'in', …)` of an update that needs no transaction of its own.
 */
export function operationsInIdOrder(
  db: Store,
  eb: ExpressionBuilder<Database, 'operations'>,
  select: (
    query: SelectQueryBuilder<Database, 'operations', { id: string }>,
  ) => SelectQueryBuilder<Database, 'operations', { id: string }>,
): SelectQueryBuilder<Database, 'operations', { id: string }> {
  return lockedForUpdate(db, select(eb.selectFrom('operations').select('id')).orderBy('id'));
}
