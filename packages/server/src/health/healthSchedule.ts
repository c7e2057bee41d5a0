import { ACTIVE_OPERATION_STATES } from '@longshore/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';
import { effectivePolicyId } from './effectivePolicy.js';
import type { HealthChecks } from './healthChecks.js';

/**
 * The server's timer for worker health: ends checks past their deadline, gives every enabled
 * worker a check once its policy's interval has passed since its last one, and removes workers
 * that a policy says to delete once unavailable. Each is one query over all workers, so a tick
 * stays cheap with hundreds of them.
 */
export class HealthSchedule {
  readonly #db: Store;
  readonly #checks: HealthChecks;
  readonly #log: Pick<FastifyBaseLogger, 'error' | 'info'>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(parts: {
    db: Store;
    checks: HealthChecks;
    log: Pick<FastifyBaseLogger, 'error' | 'info'>;
    intervalMs: number;
  }) {
    this.#db = parts.db;
    this.#checks = parts.checks;
    this.#log = parts.log;
    this.#intervalMs = parts.intervalMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One round; a round still running when the timer fires again is not overlapped. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      await this.#checks.expire();
      await this.#checks.request(await this.dueWorkers(Date.now()));
      await this.#removeUnavailable(Date.now());
    } catch (err) {
      this.#log.error({ err }, 'a round of worker health checks failed; the next one tries again');
    } finally {
      this.#ticking = false;
    }
  }

  /** Enabled workers with no check under way whose last check (or registration) is an interval old. */
  async dueWorkers(now: number): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('workers')
      .innerJoin('machine_policies', (join) => join.on('machine_policies.id', '=', effectivePolicyId(this.#db)))
      .select('workers.id')
      .where('workers.disabled', '=', 0)
      .where((eb) =>
        eb(
          eb(
            eb.fn.coalesce('workers.health_checked_at', 'workers.registered_at'),
            '+',
            eb('machine_policies.health_check_interval_seconds', '*', 1000),
          ),
          '<=',
          now,
        ),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('health_checks')
              .select('health_checks.id')
              .whereRef('health_checks.worker_id', '=', 'workers.id')
              .where('health_checks.state', '!=', 'finished'),
          ),
        ),
      )
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Unavailable workers whose policy deletes them, unheard of for longer than its hours (a worker
   * still polling is kept: it is there, only not answering checks) and running nothing.
   */
  async #removeUnavailable(now: number): Promise<void> {
    const doomed = await this.#db
      .selectFrom('workers')
      .innerJoin('machine_policies', (join) => join.on('machine_policies.id', '=', effectivePolicyId(this.#db)))
      .select(['workers.id', 'workers.name', 'machine_policies.name as policy'])
      .where('workers.health', '=', 'unavailable')
      .where('machine_policies.unavailable_action', '=', 'delete')
      .where((eb) =>
        eb(eb('workers.last_seen_at', '+', eb('machine_policies.delete_after_hours', '*', 3_600_000)), '<=', now),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('operations')
              .select('operations.id')
              .whereRef('operations.worker_id', '=', 'workers.id')
              .where('operations.state', 'in', ACTIVE_OPERATION_STATES),
          ),
        ),
      )
      .execute();
    for (const w of doomed) {
      await this.#checks.abandon(
        w.id,
        `Worker ${w.name} was removed: unavailable, as machine policy '${w.policy}' says`,
      );
      await this.#db.deleteFrom('workers').where('id', '=', w.id).where('health', '=', 'unavailable').execute();
      this.#log.info({ worker: w.name, policy: w.policy }, 'removed an unavailable worker, as its machine policy says');
    }
  }
}
