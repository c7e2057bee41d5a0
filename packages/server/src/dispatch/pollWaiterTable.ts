import type { Store } from '../store/database.js';

/** A waiting poll's registration: one row per pool it waits on. */
export interface WaiterRegistration {
  waiterId: string;
  nodeId: string;
  workerId: string;
  pools: readonly string[];
  free: number;
  since: number;
  expiresAt: number;
}

/** A poll chosen for `share` of the operations queued in a pool. */
export interface ClaimedWaiter {
  waiterId: string;
  nodeId: string;
  share: number;
}

/**
 * The `poll_waiters` table (PostgreSQL only), where the nodes' waiting polls are found by the
 * node that queues work. Each statement is one round trip; the costs per idle poll are one
 * insert when it starts waiting and one delete when it ends (by its own node, or by the node that
 * chose it).
 */
export class PollWaiterTable {
  readonly #db: Store;

  constructor(db: Store) {
    this.#db = db;
  }

  async register(r: WaiterRegistration): Promise<void> {
    await this.#db
      .insertInto('poll_waiters')
      .values(
        r.pools.map((poolId) => ({
          waiter_id: r.waiterId,
          pool_id: poolId,
          node_id: r.nodeId,
          worker_id: r.workerId,
          free: r.free,
          since: r.since,
          expires_at: r.expiresAt,
        })),
      )
      .execute();
  }

  async unregister(waiterId: string): Promise<void> {
    await this.#db.deleteFrom('poll_waiters').where('waiter_id', '=', waiterId).execute();
  }

  /**
   * Takes the longest-waiting polls of the pool until their free slots cover `count`, removing
   * their rows for that pool. Rows another node is taking at the same moment are skipped, not
   * waited for, so two nodes queuing work for one pool choose different polls. Only the rows
   * locked here are deleted: deleting a chosen poll's rows of other pools could wait on a node
   * choosing it for one of those, which waits on us. Those go when the poll answers.
   */
  async claim(poolId: string, count: number, now: number): Promise<ClaimedWaiter[]> {
    return this.#db.transaction().execute(async (trx) => {
      // Every row has at least one free slot, so `count` rows always cover `count` operations.
      const rows = await trx
        .selectFrom('poll_waiters')
        .select(['waiter_id', 'node_id', 'free'])
        .where('pool_id', '=', poolId)
        .where('expires_at', '>', now)
        .orderBy('since')
        .orderBy('waiter_id')
        .limit(count)
        .forUpdate()
        .skipLocked()
        .execute();
      const claimed: ClaimedWaiter[] = [];
      let remaining = count;
      for (const row of rows) {
        if (remaining <= 0) break;
        const share = Math.min(row.free, remaining);
        remaining -= share;
        claimed.push({ waiterId: row.waiter_id, nodeId: row.node_id, share });
      }
      if (claimed.length)
        await trx
          .deleteFrom('poll_waiters')
          .where('pool_id', '=', poolId)
          .where(
            'waiter_id',
            'in',
            claimed.map((c) => c.waiterId),
          )
          .execute();
      return claimed;
    });
  }

  /** The node's registrations still in the table, as `waiterId pool` keys: the others were claimed. */
  async registeredBy(nodeId: string): Promise<Set<string>> {
    const rows = await this.#db
      .selectFrom('poll_waiters')
      .select(['waiter_id', 'pool_id'])
      .where('node_id', '=', nodeId)
      .execute();
    return new Set(rows.map((r) => registrationKey(r.waiter_id, r.pool_id)));
  }

  async removeNode(nodeId: string): Promise<void> {
    await this.#db.deleteFrom('poll_waiters').where('node_id', '=', nodeId).execute();
  }

  /** Rows whose poll has surely answered: left by a node that stopped without removing them. */
  async removeExpired(now: number): Promise<void> {
    await this.#db.deleteFrom('poll_waiters').where('expires_at', '<', now).execute();
  }
}

export const registrationKey = (waiterId: string, poolId: string): string => `${waiterId} ${poolId}`;
