import type { FastifyBaseLogger } from 'fastify';
import type { TaskLog } from '../logs/taskLog.js';
import type { Store } from '../store/database.js';
import { whyPoolUnusable } from './poolUsability.js';

/** Where a step ends whose pool had no usable worker for too long: the task runner. */
export interface UnservedStepFailure {
  /** Fails the step's operations no worker has taken with `message`, and moves its task on. */
  failUnserved(taskId: string, stepIndex: number, message: string): Promise<void>;
}

export interface UnservedStepWatchParts {
  db: Store;
  taskLog: Pick<TaskLog, 'system'>;
  steps: UnservedStepFailure;
  log: Pick<FastifyBaseLogger, 'error'>;
  /** A worker unheard of for this long counts as offline. */
  offlineAfterMs: number;
  /** How long a step may wait with no usable worker in its pool before its waiting operations fail. */
  timeoutMs: number;
  sweepIntervalMs: number;
}

interface Unserved {
  poolId: string;
  explanation: string;
  since: number;
}

/**
 * Steps whose operations are queued in a pool where no worker can take them (none registered, or
 * all disabled, offline, unhealthy or unavailable). Each such step gets one task log line saying
 * why, and another only when the reason changes; after `timeoutMs` its operations fail with that
 * reason rather than wait forever. It looks per pool (one query of its workers), never per
 * operation. What it has said lives in memory: after a restart it says it once more, and the wait
 * starts again.
 */
export class UnservedStepWatch {
  readonly #parts: UnservedStepWatchParts;
  /** By `${taskId}:${stepIndex}`. */
  readonly #steps = new Map<string, Unserved>();
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(parts: UnservedStepWatchParts) {
    this.#parts = parts;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), this.#parts.sweepIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Whether this node runs the watch: one node of a cluster does, under a lease. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** A step queued operations in the pool: say at once if nothing can take them. */
  stepQueued(poolId: string): void {
    void this.#serially(async () => {
      await this.#checkPool(poolId, Date.now());
    });
  }

  /** Looks at every pool with queued operations; forgets steps that no longer wait. */
  sweep(): Promise<void> {
    return this.#serially(async () => {
      const now = Date.now();
      const pools = await this.#parts.db
        .selectFrom('operations')
        .select('pool_id')
        .distinct()
        .where('state', '=', 'queued')
        .execute();
      const waiting = new Set<string>();
      for (const { pool_id } of pools) for (const key of await this.#checkPool(pool_id, now)) waiting.add(key);
      for (const key of this.#steps.keys()) if (!waiting.has(key)) this.#steps.delete(key);
    });
  }

  /** One check at a time, so a step's line is never written twice; a failure is logged and the next one runs. */
  #serially(work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue
      .then(work)
      .catch((err: unknown) => this.#parts.log.error({ err }, 'checking pools for usable workers failed'));
    return this.#queue;
  }

  /** Answers the keys of the pool's steps that wait with no usable worker. */
  async #checkPool(poolId: string, now: number): Promise<string[]> {
    const { db, taskLog, steps, offlineAfterMs, timeoutMs } = this.#parts;
    const explanation = await whyPoolUnusable(db, poolId, now, offlineAfterMs);
    if (explanation === undefined) {
      for (const [key, step] of this.#steps) if (step.poolId === poolId) this.#steps.delete(key);
      return [];
    }
    const queued = await db
      .selectFrom('operations')
      .select(['task_id', 'step_index', 'step_name'])
      .distinct()
      .where('pool_id', '=', poolId)
      .where('state', '=', 'queued')
      .execute();
    const keys: string[] = [];
    for (const op of queued) {
      const key = `${op.task_id}:${op.step_index}`;
      keys.push(key);
      const known = this.#steps.get(key);
      if (known?.explanation !== explanation) {
        this.#steps.set(key, { poolId, explanation, since: known?.since ?? now });
        await taskLog.system(
          op.task_id,
          `${explanation}; step '${op.step_name}' waits up to ${Math.round(timeoutMs / 1000)}s for one`,
          'warning',
        );
      }
      const since = this.#steps.get(key)!.since;
      if (now - since >= timeoutMs) {
        this.#steps.delete(key);
        await steps.failUnserved(op.task_id, op.step_index, explanation);
      }
    }
    return keys;
  }
}
