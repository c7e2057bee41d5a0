import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { ACTIVE_OPERATION_STATES } from '@longshore/protocol';
import { inNotices, type ClusterSignals } from '../cluster/clusterSignals.js';
import type { Store } from '../store/database.js';
import { PollWaiter } from './pollWaiter.js';
import { PollWaiterTable, registrationKey } from './pollWaiterTable.js';
import type { PollWakeups, Wakeup } from './workerWakeups.js';

/** While notices may be missed, how often a node reads what they would have told it. */
const FALLBACK_INTERVAL_MS = 1_000;
/** A registration outlives its poll by this much before any node may remove it as left over. */
const EXPIRY_MARGIN_MS = 5_000;

export interface ClusterWakeupsParts {
  db: Store;
  signals: ClusterSignals;
  log: Pick<FastifyBaseLogger, 'error'>;
  /** The longest a poll waits here, which bounds how long its registration can be needed. */
  maxPollWaitMs: number;
  /** How often registrations left by stopped nodes are removed. */
  sweepIntervalMs: number;
}

/** A `wake` notice: operations of pool `p` granted to waiters of the receiving node, `[waiterId, share]`. */
interface WakeNotice {
  p: string;
  g: readonly [string, number][];
}

/**
 * PollWakeups for several nodes on one PostgreSQL store (the contract is in workerWakeups.ts).
 * A poll whose first look found nothing registers in `poll_waiters` and looks once more (work
 * queued before its row committed found nobody to notify); the node that queues work claims the
 * longest-waiting rows of the pool, whichever node holds those polls, until their free slots
 * cover the work, and sends each of those nodes a `wake` notice naming its polls. A poll that
 * leases less than it was granted hands the rest on the same way.
 *
 * Fallbacks: a node that missed notices (its listening connection was down) reads its own
 * registrations every second while not live, and once on coming back: a registration that is
 * gone was claimed, so its poll is woken as if granted its free slots. It also wakes its polls
 * of workers with a cancel requested. Upgrades wait for the poll's timeout. A notice lost to a
 * node that died is made good by the poll timeouts of the others, whose next looks find the work.
 */
export class ClusterWakeups implements PollWakeups {
  readonly #parts: ClusterWakeupsParts;
  readonly #table: PollWaiterTable;
  readonly #byId = new Map<string, PollWaiter>();
  /** Each poll's id in the table, and when it began: polls are woken in the order they began, whatever their first look took. */
  readonly #ids = new Map<PollWaiter, { id: string; since: number }>();
  readonly #byWorker = new Map<string, Set<PollWaiter>>();
  /** Registrations under way or made, with the pools whose rows are still in the table. */
  readonly #rows = new Map<PollWaiter, { joined: Promise<void>; pools: Set<string> }>();
  /** Removals under way: a poll that waits again registers only after its old rows are gone. */
  readonly #leaving = new Map<PollWaiter, Promise<void>>();
  readonly #stops: (() => void)[] = [];

  constructor(parts: ClusterWakeupsParts) {
    this.#parts = parts;
    this.#table = new PollWaiterTable(parts.db);
  }

  start(): void {
    const { signals, sweepIntervalMs } = this.#parts;
    this.#stops.push(
      signals.subscribe('wake', (message) => this.#onWake(message)),
      signals.subscribe('worker', (workerId) => this.#wakeLocal(workerId)),
      signals.onLiveChange((live) => {
        if (live) this.#catchUp('after hearing other nodes again');
      }),
    );
    const fallback = setInterval(() => {
      if (!signals.live) this.#catchUp('while not hearing other nodes');
    }, FALLBACK_INTERVAL_MS);
    const sweep = setInterval(() => {
      this.#table.removeExpired(Date.now()).catch((err: unknown) => this.#failed(err, 'removing left-over polls'));
    }, sweepIntervalMs);
    fallback.unref();
    sweep.unref();
    this.#stops.push(
      () => clearInterval(fallback),
      () => clearInterval(sweep),
    );
  }

  /** Ends every wait and removes this node's registrations in one statement. */
  async stop(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    this.wakeAll();
    await this.#table.removeNode(this.#parts.signals.nodeId);
  }

  notifyPool(poolId: string, count: number): void {
    if (count <= 0) return;
    this.#claim(poolId, count).catch((err: unknown) => this.#failed(err, 'waking polls for queued work'));
  }

  wakeWorker(workerId: string): void {
    this.#wakeLocal(workerId);
    this.#parts.signals
      .publish('worker', workerId)
      .catch((err: unknown) => this.#failed(err, 'telling other nodes about a worker'));
  }

  wakeAll(): void {
    for (const waiters of this.#byWorker.values()) for (const waiter of waiters) waiter.wake();
  }

  listen(workerId: string, pools: readonly string[], slots: number, signal: AbortSignal): Wakeup {
    const waiter = new PollWaiter(workerId, [...new Set(pools)], slots, signal, {
      joinAfterFirstLook: true,
      enqueue: (w) => this.#register(w),
      dequeue: (w) => this.#unregister(w),
      handOn: (poolId, count) => this.notifyPool(poolId, count),
      forget: (w) => this.#forget(w),
    });
    const id = randomUUID();
    this.#byId.set(id, waiter);
    this.#ids.set(waiter, { id, since: Date.now() });
    let mine = this.#byWorker.get(workerId);
    if (!mine) this.#byWorker.set(workerId, (mine = new Set()));
    mine.add(waiter);
    waiter.start();
    return waiter;
  }

  async #claim(poolId: string, count: number): Promise<void> {
    const claimed = await this.#table.claim(poolId, count, Date.now());
    const byNode = new Map<string, [string, number][]>();
    for (const c of claimed) {
      let grants = byNode.get(c.nodeId);
      if (!grants) byNode.set(c.nodeId, (grants = []));
      grants.push([c.waiterId, c.share]);
    }
    const { signals } = this.#parts;
    for (const [nodeId, grants] of byNode) {
      if (nodeId === signals.nodeId) {
        this.#grant(poolId, grants);
        continue;
      }
      for (const message of inNotices(grants, (g) => JSON.stringify({ p: poolId, g } satisfies WakeNotice)))
        await signals.publish('wake', message, { to: nodeId });
    }
  }

  #onWake(message: string): void {
    let notice: WakeNotice;
    try {
      notice = JSON.parse(message) as WakeNotice;
    } catch (err) {
      this.#failed(err, 'reading a wake notice');
      return;
    }
    this.#grant(notice.p, notice.g);
  }

  /** A poll that answered before its grant arrived passes the grant on. */
  #grant(poolId: string, grants: readonly [string, number][]): void {
    for (const [waiterId, share] of grants) {
      const waiter = this.#byId.get(waiterId);
      if (!waiter) {
        this.notifyPool(poolId, share);
        continue;
      }
      this.#rows.get(waiter)?.pools.delete(poolId);
      waiter.grant(poolId, share);
    }
  }

  #wakeLocal(workerId: string): void {
    for (const waiter of this.#byWorker.get(workerId) ?? []) waiter.wake();
  }

  #register(waiter: PollWaiter): Promise<void> {
    const { signals, maxPollWaitMs } = this.#parts;
    const { id, since } = this.#ids.get(waiter)!;
    // The poll looks again only once this is done; if it failed, it waits for its timeout instead.
    const left = this.#leaving.get(waiter) ?? Promise.resolve();
    const joined = left
      .then(() =>
        this.#table.register({
          waiterId: id,
          nodeId: signals.nodeId,
          workerId: waiter.workerId,
          pools: waiter.pools,
          free: waiter.slots,
          since,
          expiresAt: Date.now() + maxPollWaitMs + EXPIRY_MARGIN_MS,
        }),
      )
      .catch((err: unknown) => this.#failed(err, 'registering a waiting poll'));
    this.#rows.set(waiter, { joined, pools: new Set(waiter.pools) });
    return joined;
  }

  /** Removes what is left of the poll's rows, after its registration if that is still under way. */
  #unregister(waiter: PollWaiter): void {
    const rows = this.#rows.get(waiter);
    if (!rows) return;
    this.#rows.delete(waiter);
    if (rows.pools.size === 0) return;
    const waiterId = this.#ids.get(waiter)!.id;
    const leaving = rows.joined
      .then(() => this.#table.unregister(waiterId))
      .catch((err: unknown) => this.#failed(err, 'removing a waiting poll'))
      .finally(() => {
        if (this.#leaving.get(waiter) === leaving) this.#leaving.delete(waiter);
      });
    this.#leaving.set(waiter, leaving);
  }

  #forget(waiter: PollWaiter): void {
    this.#unregister(waiter);
    const id = this.#ids.get(waiter)?.id;
    if (id !== undefined) this.#byId.delete(id);
    this.#ids.delete(waiter);
    const mine = this.#byWorker.get(waiter.workerId);
    mine?.delete(waiter);
    if (mine?.size === 0) this.#byWorker.delete(waiter.workerId);
  }

  /** Reads what missed notices would have said: registrations claimed, cancels requested. */
  #catchUp(when: string): void {
    this.#readMissed().catch((err: unknown) => this.#failed(err, `reading missed wake-ups ${when}`));
  }

  async #readMissed(): Promise<void> {
    const { db, signals } = this.#parts;
    const settled = [...this.#rows].filter(([, rows]) => rows.pools.size > 0);
    if (settled.length) {
      await Promise.all(settled.map(([, rows]) => rows.joined));
      const still = await this.#table.registeredBy(signals.nodeId);
      for (const [waiter, rows] of settled) {
        const id = this.#ids.get(waiter)?.id;
        if (id === undefined) continue;
        for (const poolId of [...rows.pools])
          if (!still.has(registrationKey(id, poolId))) {
            rows.pools.delete(poolId);
            waiter.grant(poolId, waiter.slots);
          }
      }
    }
    const workers = [...this.#byWorker.keys()];
    if (workers.length === 0) return;
    const cancels = await db
      .selectFrom('operations')
      .select('worker_id')
      .distinct()
      .where('worker_id', 'in', workers)
      .where('cancel_requested', '=', 1)
      .where('state', 'in', ACTIVE_OPERATION_STATES)
      .execute();
    for (const c of cancels) if (c.worker_id) this.#wakeLocal(c.worker_id);
  }

  #failed(err: unknown, doing: string): void {
    this.#parts.log.error({ err }, `${doing} failed`);
  }
}
