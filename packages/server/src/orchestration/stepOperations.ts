import { IN_FLIGHT_OPERATION_STATES } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { operationsInIdOrder } from '../store/lockOrder.js';

export type StepProgress =
  | { state: 'unplanned' }
  /** `inFlight` is counted only while operations wait for room: the one time it is needed. */
  | { state: 'running'; waiting: false }
  | { state: 'running'; waiting: true; inFlight: number }
  | { state: 'finished'; allSucceeded: boolean };

/**
 * Where a step stands. This is asked after every operation that ends, so each question reads at
 * most the operations in flight (no more than the step's maxParallelism) or stops at the first
 * match, through the (task_id, step_index, state, created_at) index. Counting all of a step's
 * operations each time made a step on 10,000 targets quadratic.
 */
export async function stepProgress(db: Store, taskId: string, index: number): Promise<StepProgress> {
  const ofStep = () =>
    db.selectFrom('operations').select('id').where('task_id', '=', taskId).where('step_index', '=', index);
  if (await ofStep().where('state', '=', 'waiting').limit(1).executeTakeFirst()) {
    const { n } = await db
      .selectFrom('operations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('task_id', '=', taskId)
      .where('step_index', '=', index)
      .where('state', 'in', IN_FLIGHT_OPERATION_STATES)
      .executeTakeFirstOrThrow();
    return { state: 'running', waiting: true, inFlight: Number(n) };
  }
  if (await ofStep().where('state', 'in', IN_FLIGHT_OPERATION_STATES).limit(1).executeTakeFirst())
    return { state: 'running', waiting: false };
  if (!(await ofStep().limit(1).executeTakeFirst())) return { state: 'unplanned' };
  // Once per step: everything has finished, so this reads up to the first that did not succeed.
  const unsuccessful = await ofStep()
    .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '!=', 'succeeded')]))
    .limit(1)
    .executeTakeFirst();
  return { state: 'finished', allSucceeded: !unsuccessful };
}

/** Queues up to `count` of the step's waiting operations, oldest first; answers their pool and how many, if any were waiting. */
export async function releaseWaiting(
  db: Store,
  taskId: string,
  index: number,
  count: number,
): Promise<{ poolId: string; count: number } | undefined> {
  // The oldest waiting, locked in id order (store/lockOrder.ts); one statement, as this runs after
  // every operation that ends while others wait.
  const released = await db
    .updateTable('operations')
    .set({ state: 'queued', queued_at: Date.now() })
    .where('id', 'in', (eb) =>
      operationsInIdOrder(db, eb, (q) =>
        q.where('id', 'in', (inner) =>
          inner
            .selectFrom('operations')
            .select('id')
            .where('task_id', '=', taskId)
            .where('step_index', '=', index)
            .where('state', '=', 'waiting')
            .orderBy('created_at')
            .limit(count),
        ),
      ),
    )
    .where('state', '=', 'waiting')
    .returning('pool_id')
    .execute();
  const poolId = released[0]?.pool_id;
  return poolId === undefined ? undefined : { poolId, count: released.length };
}
