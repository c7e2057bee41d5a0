import type { ExpressionBuilder } from 'kysely';
import type { Store } from '../store/database.js';
import { lockTasks } from '../store/lockOrder.js';
import type { Database } from '../store/schema.js';
import { ACTIVE_TASK_STATES } from '../orchestration/taskState.js';
import type { AdvanceRequests } from './advanceRequests.js';

/** What the task runner asks before it advances a task: may this node do it now? */
export interface TaskOwnership {
  /**
   * First in the transaction that advances the task, as it takes the task's row lock
   * (lockOrder.ts): true when this node holds the task's lease (extended now) or has just taken it
   * because nobody held it; false when another live node does, which has then been asked to
   * advance it. Outside a transaction, the same check on its own.
   */
  hold(trx: Store, taskId: string): Promise<boolean>;
}

/** The tasks nobody holds: never owned, released by a node that stopped, or left by one that died. */
const unheld = (now: number) => (eb: ExpressionBuilder<Database, 'tasks'>) =>
  eb.or([
    eb('owner_node_id', 'is', null),
    eb('owner_lease_expires_at', 'is', null),
    eb('owner_lease_expires_at', '<', now),
  ]);

/**
 * Each running task is advanced by one server node at a time, the one holding its lease in the
 * tasks table. A node takes the tasks it creates (the first advance takes an unheld task), renews
 * the leases of all it holds with its heartbeat, and takes over those whose lease ran out. A node
 * that stops cleanly releases its tasks, so another takes them at its next heartbeat rather than
 * after the lease.
 */
export class TaskLeases implements TaskOwnership {
  readonly #db: Store;
  readonly #nodeId: string;
  readonly #leaseMs: number;
  readonly #requests: AdvanceRequests;

  constructor(parts: { db: Store; nodeId: string; leaseMs: number; requests: AdvanceRequests }) {
    this.#db = parts.db;
    this.#nodeId = parts.nodeId;
    this.#leaseMs = parts.leaseMs;
    this.#requests = parts.requests;
  }

  async hold(trx: Store, taskId: string): Promise<boolean> {
    const now = Date.now();
    // One statement takes the task's row lock and its lease, unless another live node holds it.
    const taken = await trx
      .updateTable('tasks')
      .set({ owner_node_id: this.#nodeId, owner_lease_expires_at: now + this.#leaseMs, advance_requested: 0 })
      .where('id', '=', taskId)
      .where((eb) => eb.or([eb('owner_node_id', '=', this.#nodeId), unheld(now)(eb)]))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) > 0) return true;
    await this.#requests.request(trx, taskId);
    return false;
  }

  /** Extends the leases of the running tasks this node holds; answers how many. */
  async renew(): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const ids = await lockTasks(trx, (q) =>
        q.where('owner_node_id', '=', this.#nodeId).where('state', 'in', [...ACTIVE_TASK_STATES]),
      );
      if (ids.length === 0) return 0;
      await trx
        .updateTable('tasks')
        .set({ owner_lease_expires_at: Date.now() + this.#leaseMs })
        .where('id', 'in', ids)
        .where('owner_node_id', '=', this.#nodeId)
        .execute();
      return ids.length;
    });
  }

  /**
   * Takes the running tasks of `kinds` that nobody holds, each by one node only: rows another node
   * is taking are skipped. `all` takes every one whoever held it (the one node of an SQLite store,
   * whose previous run is over). Answers the ids taken, for the task runner to resume.
   */
  async takeOver(kinds: readonly string[], options: { all?: boolean } = {}): Promise<string[]> {
    const now = Date.now();
    return this.#db.transaction().execute(async (trx) => {
      const ids = await lockTasks(
        trx,
        (q) => {
          const running = q.where('state', 'in', [...ACTIVE_TASK_STATES]).where('kind', 'in', [...kinds]);
          return options.all ? running : running.where(unheld(now));
        },
        { skipLocked: true },
      );
      if (ids.length === 0) return [];
      await trx
        .updateTable('tasks')
        .set({ owner_node_id: this.#nodeId, owner_lease_expires_at: now + this.#leaseMs, advance_requested: 0 })
        .where('id', 'in', ids)
        .execute();
      return ids;
    });
  }

  /** Lets go of every task this node holds, for another node to take at once; at a clean stop. */
  async release(): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const ids = await lockTasks(trx, (q) =>
        q.where('owner_node_id', '=', this.#nodeId).where('state', 'in', [...ACTIVE_TASK_STATES]),
      );
      if (ids.length === 0) return;
      await trx
        .updateTable('tasks')
        .set({ owner_node_id: null, owner_lease_expires_at: null })
        .where('id', 'in', ids)
        .execute();
    });
  }
}
