import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';
import { lockTasks } from '../store/lockOrder.js';

/**
 * How a node that may not advance a task (another node holds its lease) tells the owner to: a
 * worker's result, a cancel or a failed step reached the wrong node. The request is kept in the
 * store, so it holds when the owner is busy or dies (whoever takes the task over advances it).
 * This version is found by the owner's polling; one backed by a cross-node notification can wake
 * it at once and keep the polling as its fallback.
 */
export interface AdvanceRequests {
  /** Asks the task's owner to advance it, in the transaction that found another node holds it. */
  request(trx: Store, taskId: string): Promise<void>;
  /** Hands the tasks asked of this node to `advance` as requests come, until stop(). */
  start(advance: (taskId: string) => void): void;
  stop(): void;
}

/** Within a second of a request, as a worker's result reaching the owner directly would be. */
export const ADVANCE_REQUEST_POLL_MS = 500;

/** Requests as a flag on the task, which its owner looks for every ADVANCE_REQUEST_POLL_MS. */
export class StoredAdvanceRequests implements AdvanceRequests {
  readonly #db: Store;
  readonly #nodeId: string;
  readonly #log: Pick<FastifyBaseLogger, 'error'>;
  #timer: NodeJS.Timeout | undefined;
  #looking = false;

  constructor(parts: { db: Store; nodeId: string; log: Pick<FastifyBaseLogger, 'error'> }) {
    this.#db = parts.db;
    this.#nodeId = parts.nodeId;
    this.#log = parts.log;
  }

  async request(trx: Store, taskId: string): Promise<void> {
    await trx.updateTable('tasks').set({ advance_requested: 1 }).where('id', '=', taskId).execute();
  }

  start(advance: (taskId: string) => void): void {
    this.#timer = setInterval(() => {
      if (this.#looking) return;
      this.#looking = true;
      this.take()
        .then((ids) => ids.forEach(advance))
        .catch((err: unknown) => this.#log.error({ err }, 'looking for advances asked of this node failed'))
        .finally(() => (this.#looking = false));
    }, ADVANCE_REQUEST_POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * The tasks this node holds that another node asked it to advance, the flag cleared. A task
   * another transaction holds is left for the next look: it is being advanced or renewed now.
   */
  async take(): Promise<string[]> {
    return this.#db.transaction().execute(async (trx) => {
      const ids = await lockTasks(
        trx,
        (q) => q.where('owner_node_id', '=', this.#nodeId).where('advance_requested', '=', 1),
        { skipLocked: true },
      );
      if (ids.length) await trx.updateTable('tasks').set({ advance_requested: 0 }).where('id', 'in', ids).execute();
      return ids;
    });
  }
}
