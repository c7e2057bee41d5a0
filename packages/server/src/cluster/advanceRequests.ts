import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';
import { lockTasks } from '../store/lockOrder.js';
import type { ClusterSignals } from './clusterSignals.js';

/**
 * How a node that may not advance a task (another node holds its lease) tells the owner to: a
 * worker's result, a cancel or a failed step reached the wrong node. The request is kept in the
 * store, so it holds when the owner is busy or dies (whoever takes the task over advances it).
 */
export interface AdvanceRequests {
  /** Asks the task's owner to advance it, in the transaction that found another node holds it. */
  request(trx: Store, taskId: string): Promise<void>;
  /** Hands the tasks asked of this node to `advance` as requests come, until stop(). */
  start(advance: (taskId: string) => void): void;
  stop(): void;
}

/** While notices may be missed: within a second of a request, as a worker's result reaching the owner directly would be. */
export const ADVANCE_REQUEST_POLL_MS = 500;

/**
 * Requests as a flag on the task, with a notice to its owner sent when the request commits: the
 * owner looks at once. The owner also looks on a timer, every ADVANCE_REQUEST_POLL_MS while its
 * notices may be missed and every `recheckMs` while they are not (a request made as the task
 * changed hands was told to the node that had it).
 */
export class StoredAdvanceRequests implements AdvanceRequests {
  readonly #db: Store;
  readonly #nodeId: string;
  readonly #signals: ClusterSignals;
  readonly #recheckMs: number;
  readonly #log: Pick<FastifyBaseLogger, 'error'>;
  #advance: ((taskId: string) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void)[] = [];
  #looking = false;
  #lookAgain = false;

  constructor(parts: {
    db: Store;
    nodeId: string;
    signals: ClusterSignals;
    recheckMs: number;
    log: Pick<FastifyBaseLogger, 'error'>;
  }) {
    this.#db = parts.db;
    this.#nodeId = parts.nodeId;
    this.#signals = parts.signals;
    this.#recheckMs = parts.recheckMs;
    this.#log = parts.log;
  }

  async request(trx: Store, taskId: string): Promise<void> {
    const task = await trx
      .updateTable('tasks')
      .set({ advance_requested: 1 })
      .where('id', '=', taskId)
      .returning('owner_node_id')
      .executeTakeFirst();
    const owner = task?.owner_node_id;
    if (owner) await this.#signals.publish('advance', '', { to: owner, within: trx });
  }

  start(advance: (taskId: string) => void): void {
    this.#advance = advance;
    this.#unsubscribe = [
      this.#signals.subscribe('advance', () => this.#look()),
      this.#signals.onLiveChange((live) => {
        this.#schedule();
        if (live) this.#look();
      }),
    ];
    this.#schedule();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#advance = undefined;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
  }

  #schedule(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#look(), this.#signals.live ? this.#recheckMs : ADVANCE_REQUEST_POLL_MS);
    this.#timer.unref();
  }

  /** One look at a time; a notice that comes during one makes another follow it. */
  #look(): void {
    if (!this.#advance) return;
    if (this.#looking) {
      this.#lookAgain = true;
      return;
    }
    this.#looking = true;
    this.take()
      .then((ids) => ids.forEach((id) => this.#advance?.(id)))
      .catch((err: unknown) => this.#log.error({ err }, 'looking for advances asked of this node failed'))
      .finally(() => {
        this.#looking = false;
        if (this.#lookAgain) {
          this.#lookAgain = false;
          this.#look();
        }
      });
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
