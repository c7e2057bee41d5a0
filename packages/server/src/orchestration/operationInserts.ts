import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';

/**
 * The most values one statement may bind: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32,766 since 3.32;
 * PostgreSQL allows 65,535). A step's operations in one INSERT passed it at 1,425 targets.
 */
export const MAX_SQL_VARIABLES = 32_766;

/** Splits rows so that no INSERT of one batch binds more than MAX_SQL_VARIABLES values. */
export function insertBatches<T extends object>(rows: readonly T[]): T[][] {
  if (rows.length === 0) return [];
  const columns = Object.keys(rows[0]!).length;
  const size = Math.max(1, Math.floor(MAX_SQL_VARIABLES / columns));
  const batches: T[][] = [];
  for (let i = 0; i < rows.length; i += size) batches.push(rows.slice(i, i + size));
  return batches;
}

/** Stores a step's plan in one transaction: all of its operations, or none. */
export async function insertOperations(db: Store, rows: readonly Database['operations'][]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const batch of insertBatches(rows)) await trx.insertInto('operations').values(batch).execute();
  });
}
