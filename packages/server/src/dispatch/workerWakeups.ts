import { PollWaiter } from './pollWaiter.js';

/** What the task side tells waiting workers: there is new work, or something they hold changed. */
export interface WorkSignals {
  /** `count` operations were queued in the pool: wake polls whose free slots cover them. */
  notifyPool(poolId: string, count: number): void;
  /** Something the worker holds changed (a cancel, an upgrade): its polls look again. */
  wakeWorker(workerId: string): void;
}

/**
 * The dispatcher's side: a poll listens before it looks at the queue, then waits.
 *
 * What an implementation shared by several server nodes must guarantee (the in-process one below
 * is the reference):
 * - No lost wake-up: a notification that follows a poll's `listen` either wakes that poll or
 *   wakes others whose free slots cover the count, wherever those polls are held; a node cannot
 *   rely on seeing the queuing node's notification in time, so polls on a node that missed it
 *   still look at the queue again within a bounded interval (a poll fallback).
 * - At most what is needed: one notification wakes polls, cluster-wide, until their free slots
 *   cover `count`, and the longest-waiting first; not every waiting poll of the pool.
 * - Hand-on: a woken poll that answers having leased fewer than it was woken for, and that did not
 *   see its pools' queues empty, passes the rest on to the next waiter on any node at once.
 * - `wakeWorker` reaches the poll of that worker on whichever node holds it.
 */
export interface PollWakeups extends WorkSignals {
  /**
   * Registers a poll before it looks for work, so that work queued between the look and the wait
   * is not missed. `slots` is how many operations it can take now: 0 when it may not lease at all,
   * and it then waits only for its own wake-ups. An abort of `signal` ends its wait.
   */
  listen(workerId: string, pools: readonly string[], slots: number, signal: AbortSignal): Wakeup;
  /** Ends every wait now: the server is stopping. */
  wakeAll(): void;
}

/** One poll's registration, from before its first look until it answers. */
export interface Wakeup {
  /** Resolves when woken, aborted, or after `ms`. */
  wait(ms: number): Promise<void>;
  /** How many it can still take, once its first look knows (0: it may not lease, or it is full). */
  offer(slots: number): void;
  /**
   * After `offer`, before waiting: true when the poll must look at the queue once more, because
   * it became findable by notifications only after its first look (a shared implementation
   * registers it in the database then); work queued in between is found by this second look.
   */
  registered(): Promise<boolean>;
  /**
   * Once woken: how many operations notifications chose this poll for and it has not leased. A
   * poll leases that many, when it has them, so that work goes to the polls chosen for it
   * rather than to whichever looks first.
   */
  granted(): number;
  /**
   * Once woken by grants and having leased nothing (others took the work first): waits again,
   * in its old place, and answers true; false when it must answer instead (woken otherwise).
   * Call `registered` again before waiting.
   */
  rejoin(): boolean;
  /** Starts one look at the queue; tell the attempt what it leased. */
  leasing(): LeaseAttempt;
  /** The poll answers: it stops waiting, and wake-ups it was given and did not use go to the next waiter. */
  close(): void;
}

export interface LeaseAttempt {
  /**
   * `pools`: the pool of each operation leased. `queuesEmpty`: it asked for more than it got, so at
   * that moment its pools held nothing more to lease.
   */
  done(pools: readonly string[], queuesEmpty: boolean): void;
}

/**
 * The polls this server holds, in a FIFO queue per pool. A notification walks a queue from its
 * head and stops once the polls it woke have the slots for the work, so it costs what it wakes,
 * however many workers wait. A woken poll leaves every queue; it joins again, at the tail, with
 * its next poll, which keeps wake-ups fair between the workers of a pool.
 */
export class WorkerWakeups implements PollWakeups {
  readonly #queues = new Map<string, Set<PollWaiter>>();
  readonly #byWorker = new Map<string, Set<PollWaiter>>();

  notifyPool(poolId: string, count: number): void {
    const queue = this.#queues.get(poolId);
    if (!queue) return;
    let remaining = count;
    // Deleting the entry being visited is safe while iterating a Set.
    for (const waiter of queue) {
      if (remaining <= 0) break;
      const share = Math.min(waiter.slots, remaining);
      remaining -= share;
      waiter.grant(poolId, share);
    }
  }

  wakeWorker(workerId: string): void {
    for (const waiter of this.#byWorker.get(workerId) ?? []) waiter.wake();
  }

  wakeAll(): void {
    for (const waiters of this.#byWorker.values()) for (const waiter of waiters) waiter.wake();
  }

  listen(workerId: string, pools: readonly string[], slots: number, signal: AbortSignal): Wakeup {
    const waiter = new PollWaiter(workerId, [...new Set(pools)], slots, signal, {
      joinAfterFirstLook: false,
      enqueue: (w) => this.#enqueue(w),
      dequeue: (w) => this.#dequeue(w),
      handOn: (poolId, count) => this.notifyPool(poolId, count),
      forget: (w) => this.#forget(w),
    });
    let mine = this.#byWorker.get(workerId);
    if (!mine) this.#byWorker.set(workerId, (mine = new Set()));
    mine.add(waiter);
    waiter.start();
    return waiter;
  }

  #enqueue(waiter: PollWaiter): void {
    for (const poolId of waiter.pools) {
      let queue = this.#queues.get(poolId);
      if (!queue) this.#queues.set(poolId, (queue = new Set()));
      queue.add(waiter);
    }
  }

  #dequeue(waiter: PollWaiter): void {
    for (const poolId of waiter.pools) {
      const queue = this.#queues.get(poolId);
      if (!queue) continue;
      queue.delete(waiter);
      if (queue.size === 0) this.#queues.delete(poolId);
    }
  }

  #forget(waiter: PollWaiter): void {
    this.#dequeue(waiter);
    const mine = this.#byWorker.get(waiter.workerId);
    mine?.delete(waiter);
    if (mine?.size === 0) this.#byWorker.delete(waiter.workerId);
  }
}
