import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import type { StepPlan } from './planner.js';

/**
 * The most values one statement may bind: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32,766 since 3.32;
 * PostgreSQL allows 65,535). A step's operations in one INSERT passed it at 1,425 targets.
 */
export const MAX_SQL_VARIABLES = 32_766;

/**
 * The most bytes of operations one step may plan. Every operation carries its script and all of its
 * variables, so a large value times thousands of targets is gigabytes in the store and on the wire.
 */
export const MAX_PLAN_BYTES = 1024 ** 3;

/** How many rows of `columns` values one INSERT may take. */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.floor(MAX_SQL_VARIABLES / columns));
}

/**
 * Stores a step's plan in one transaction (the caller's, when `db` is one), all of its operations
 * or none, in INSERTs sized under MAX_SQL_VARIABLES. Operations are built as they are inserted,
 * so memory holds one batch.
 */
export async function insertOperations(
  db: Store,
  stepName: string,
  plan: StepPlan,
  limitBytes = MAX_PLAN_BYTES,
): Promise<void> {
  const write = async (trx: Store) => {
    const insert = (rows: Database['operations'][]) => trx.insertInto('operations').values(rows).execute();
    let batch: Database['operations'][] = [];
    let bytes = 0;
    for (const row of plan.operations) {
      bytes += row.payload.length;
      if (bytes > limitBytes) {
        throw new LongshoreError(
          'PAYLOAD_TOO_LARGE',
          `Step '${stepName}': its ${plan.size} operations come to more than ${(limitBytes / 1024 ** 3).toPrecision(3)} GiB, each carrying the script and every variable; use smaller variables or fewer targets per step`,
          { step: stepName, operations: plan.size, limitBytes },
        );
      }
      batch.push(row);
      if (batch.length >= rowsPerInsert(Object.keys(row).length)) {
        await insert(batch);
        batch = [];
      }
    }
    if (batch.length) await insert(batch);
  };
  await (db.isTransaction ? write(db) : db.transaction().execute(write));
}
