import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import {
  ACTIVE_OPERATION_STATES,
  type Operation,
  type OperationResult,
  type PollRequest,
  type PollResponse,
} from '@longshore/protocol';
import type { SecretBox } from '../crypto/secretBox.js';
import type { Store } from '../store/database.js';
import { lockOperations, operationsInIdOrder } from '../store/lockOrder.js';
import { larger, lockedForUpdate } from '../store/sqlDialect.js';
import type { PollWakeups, Wakeup } from './workerWakeups.js';
import { isUsableHealth } from './workerUsability.js';

/**
 * Renewing never shortens a lease: a worker's upgrade is leased for as long as it may take,
 * because between the old worker leaving and the new one resuming it nobody renews it.
 */
const leaseAtLeast = (until: number) => larger(sql<number>`coalesce(lease_expires_at, 0)`, until);

interface LeaseResult {
  operations: Operation[];
  /** False when the worker's health forbids new work. */
  usable: boolean;
}

export interface PollingWorker {
  id: string;
  name: string;
  disabled: boolean;
  pools: readonly string[];
}

/** How long leases and polls last; from the server's configuration. */
export interface DispatchTimings {
  leaseMs: number;
  /** The least time every lease gets after a restart, for workers to reconnect. */
  restartGraceMs: number;
  sweepIntervalMs: number;
  maxPollWaitMs: number;
}

/** Where an operation ends whose worker is gone: the task it belongs to moves on. */
export interface OperationCompletion {
  completeOperation(operationId: string, result: OperationResult): Promise<void>;
}

/** What dispatching tells the metrics: how long each operation it hands out waited in its queue. */
export interface DispatchObserver {
  operationsLeased(waitedSeconds: readonly number[]): void;
}

export interface DispatcherParts {
  db: Store;
  /** Opens the sealed operation payloads it hands to workers. */
  box: Pick<SecretBox, 'openJson'>;
  log: Pick<FastifyBaseLogger, 'error'>;
  timings: DispatchTimings;
  wakeups: PollWakeups;
  operations: OperationCompletion;
  observer?: DispatchObserver;
}

/**
 * Per-pool queues live in the operations table (state `queued`); a worker takes work by leasing
 * it in a transaction, so exactly one worker holds an operation. Leases are renewed by every poll
 * that lists the operation as running; a lease that runs out marks the operation `lost` rather
 * than running it again, because a script may have had effects we cannot see.
 */
export class Dispatcher {
  readonly #db: Store;
  readonly #box: Pick<SecretBox, 'openJson'>;
  readonly #log: Pick<FastifyBaseLogger, 'error'>;
  readonly #timings: DispatchTimings;
  readonly #wakeups: PollWakeups;
  readonly #operations: OperationCompletion;
  readonly #observer: DispatchObserver | undefined;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(parts: DispatcherParts) {
    this.#db = parts.db;
    this.#box = parts.box;
    this.#log = parts.log;
    this.#timings = parts.timings;
    this.#wakeups = parts.wakeups;
    this.#operations = parts.operations;
    this.#observer = parts.observer;
  }

  /**
   * Leases did not run while the server was down, and workers are still backing off their
   * reconnects: every lease gets the restart grace before the sweeper may call anything lost.
   */
  async start(): Promise<void> {
    const { leaseMs, restartGraceMs } = this.#timings;
    await this.#db.transaction().execute(async (trx) => {
      await lockOperations(trx, (q) => q.where('state', 'in', ACTIVE_OPERATION_STATES));
      await trx
        .updateTable('operations')
        .set({ lease_expires_at: leaseAtLeast(Date.now() + Math.max(leaseMs, restartGraceMs)) })
        .where('state', 'in', ACTIVE_OPERATION_STATES)
        .execute();
    });
  }

  /** Sweeps expired leases every sweepIntervalMs: scheduled work, on one node of the cluster at a time. */
  startSweeping(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = setInterval(() => {
      this.sweep().catch((err: unknown) => this.#log.error({ err }, 'lease sweep failed'));
    }, this.#timings.sweepIntervalMs);
    this.#sweeper.unref();
  }

  stopSweeping(): void {
    clearInterval(this.#sweeper);
  }

  stop(): void {
    this.stopSweeping();
    this.#wakeups.wakeAll();
  }

  /** `receivedAt`: when the poll reached the server, before anything it waited for. */
  async poll(
    worker: PollingWorker,
    req: PollRequest,
    signal: AbortSignal,
    receivedAt = Date.now(),
  ): Promise<PollResponse> {
    // Listen before looking, so work that arrives between the look and the wait is not missed.
    const wakeup = this.#wakeups.listen(worker.id, worker.pools, worker.disabled ? 0 : req.free, signal);
    try {
      return await this.#poll(worker, req, signal, wakeup, receivedAt);
    } finally {
      wakeup.close();
    }
  }

  async #poll(
    worker: PollingWorker,
    req: PollRequest,
    signal: AbortSignal,
    wakeup: Wakeup,
    receivedAt: number,
  ): Promise<PollResponse> {
    const db = this.#db;
    const { leaseMs, maxPollWaitMs } = this.#timings;
    const t = Date.now();
    // A poll is the worker back: whatever it said when it stopped no longer holds.
    await db.updateTable('workers').set({ last_seen_at: t, offline_at: null }).where('id', '=', worker.id).execute();
    const running = new Set(req.running);
    const held = await db
      .selectFrom('operations')
      .select(['id', 'state', 'cancel_requested', 'payload', 'task_id', 'started_at'])
      .where('worker_id', '=', worker.id)
      .where('state', 'in', ACTIVE_OPERATION_STATES)
      .execute();
    const heldIds = new Set(held.map((h) => h.id));
    const renew = held.filter((h) => running.has(h.id)).map((h) => h.id);
    if (renew.length)
      await db
        .updateTable('operations')
        .set({ lease_expires_at: leaseAtLeast(t + leaseMs) })
        .where('id', 'in', (eb) => operationsInIdOrder(db, eb, (q) => q.where('id', 'in', renew)))
        .execute();

    // Given to this worker, never acknowledged: the answer that carried it was lost, so send it again.
    const redeliver = held.filter((h) => h.state === 'leased' && !running.has(h.id));
    // Started by this worker, which no longer has it: it restarted and cannot finish it. Only what
    // started before this poll arrived: a poll the worker gave up on (it asked again once it had
    // room) can be answered late, after the next poll's operations started, and never listed them.
    const vanished = signal.aborted
      ? []
      : held.filter((h) => h.state === 'running' && !running.has(h.id) && (h.started_at ?? 0) < receivedAt);
    for (const v of vanished) {
      await this.#operations.completeOperation(v.id, {
        outcome: 'lost',
        message: `Worker ${worker.name} restarted while running this operation and no longer has it`,
        outputVariables: [],
      });
    }
    const response: PollResponse = {
      operations: redeliver.map((r) => this.#operation(r.payload)),
      cancel: held.filter((h) => h.cancel_requested && running.has(h.id)).map((h) => h.id),
      forget: req.running.filter((id) => !heldIds.has(id)),
    };
    const room = worker.disabled ? 0 : Math.max(0, req.free - response.operations.length);
    const first = await this.#lease(worker, room, wakeup);
    response.operations.push(...first.operations);
    if (response.operations.length || response.cancel.length || response.forget.length || req.waitMs === 0)
      return response;

    // An unusable worker waits only for its own wake-ups (cancels, upgrades), not for its pools' work.
    wakeup.offer(first.usable ? room : 0);
    response.operations.push(...(await this.#leaseOnceRegistered(worker, room, wakeup)));
    if (response.operations.length) return response;
    const deadline = Date.now() + Math.min(req.waitMs, maxPollWaitMs);
    for (;;) {
      await wakeup.wait(deadline - Date.now());
      if (signal.aborted) return response;
      // Polls woken together lease at once (on PostgreSQL truly in parallel): each takes what it was
      // chosen for, or the first to look would take work meant for the others and leave them empty.
      const granted = wakeup.granted();
      const leased = await this.#lease(worker, granted > 0 ? Math.min(room, granted) : room, wakeup);
      response.operations.push(...leased.operations);
      // Woken for work that a poll looking just then took first: wait on rather than answer with nothing.
      if (response.operations.length || !leased.usable || Date.now() >= deadline || !wakeup.rejoin()) break;
      response.operations.push(...(await this.#leaseOnceRegistered(worker, room, wakeup)));
      if (response.operations.length) break;
    }
    const cancels = await db
      .selectFrom('operations')
      .select('id')
      .where('worker_id', '=', worker.id)
      .where('cancel_requested', '=', 1)
      .where('state', 'in', ACTIVE_OPERATION_STATES)
      .execute();
    response.cancel = cancels.map((c) => c.id).filter((id) => running.has(id));
    return response;
  }

  /** The second look of registered(): nothing when the poll is not findable by notifications. */
  async #leaseOnceRegistered(worker: PollingWorker, room: number, wakeup: Wakeup): Promise<Operation[]> {
    return (await wakeup.registered()) ? (await this.#lease(worker, room, wakeup)).operations : [];
  }

  /** Ends leases that ran out: the worker stopped polling, so its operations are lost. */
  async sweep(): Promise<number> {
    const expired = await this.#db
      .selectFrom('operations')
      .innerJoin('workers', 'workers.id', 'operations.worker_id')
      .select(['operations.id', 'workers.name', 'workers.last_seen_at'])
      .where('operations.state', 'in', ACTIVE_OPERATION_STATES)
      .where('operations.lease_expires_at', '<', Date.now())
      .execute();
    for (const e of expired) {
      const silentFor = Math.round((Date.now() - e.last_seen_at) / 1000);
      await this.#operations.completeOperation(e.id, {
        outcome: 'lost',
        message: `Worker ${e.name} stopped responding (last seen ${silentFor}s ago); the operation may or may not have finished there`,
        outputVariables: [],
      });
    }
    return expired.length;
  }

  /**
   * Leases up to `count` queued operations of the worker's pools. Its health is read here, in the
   * lease's transaction, because a check may have found it unhealthy while its poll waited: an
   * unhealthy or unavailable worker still renews and cancels what it holds but gets nothing new.
   * What it took is counted against the wake-ups its poll was given.
   */
  async #lease(worker: PollingWorker, count: number, wakeup: Wakeup): Promise<LeaseResult> {
    if (count <= 0 || worker.pools.length === 0) return { operations: [], usable: true };
    const attempt = wakeup.leasing();
    const t = Date.now();
    let usable = true;
    const rows = await this.#db.transaction().execute(async (trx) => {
      const { health } = await trx
        .selectFrom('workers')
        .select('health')
        .where('id', '=', worker.id)
        .executeTakeFirstOrThrow();
      usable = isUsableHealth(health);
      if (!usable) return [];
      // Rows another worker's lease holds are skipped, not waited for: it takes them, this one the next.
      const candidates = await lockedForUpdate(
        trx,
        trx
          .selectFrom('operations')
          .select(['id', 'payload', 'queued_at', 'created_at', 'pool_id'])
          .where('state', '=', 'queued')
          .where('pool_id', 'in', [...worker.pools])
          .orderBy('created_at')
          .limit(count),
        { skipLocked: true },
      ).execute();
      if (candidates.length === 0) return [];
      // Only what this update changed is this worker's, whatever another connection did meanwhile.
      const leased = await trx
        .updateTable('operations')
        .set({ state: 'leased', worker_id: worker.id, leased_at: t, lease_expires_at: t + this.#timings.leaseMs })
        .where(
          'id',
          'in',
          candidates.map((c) => c.id),
        )
        .where('state', '=', 'queued')
        .returning('id')
        .execute();
      const ids = new Set(leased.map((l) => l.id));
      return candidates.filter((c) => ids.has(c.id));
    });
    attempt.done(
      rows.map((r) => r.pool_id),
      usable && rows.length < count,
    );
    if (rows.length) this.#observer?.operationsLeased(rows.map((r) => (t - (r.queued_at ?? r.created_at)) / 1000));
    return { operations: rows.map((r) => this.#operation(r.payload)), usable };
  }

  #operation(payload: string): Operation {
    return this.#box.openJson<Operation>(payload);
  }
}
