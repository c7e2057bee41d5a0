/** How a waiter reaches the queues it sits in; WorkerWakeups owns them. */
export interface WaiterQueues {
  /**
   * False for in-memory queues, which a poll joins when it starts listening. True where joining
   * is a write that takes a while (the database's, shared by nodes): the poll joins only when its
   * first look found nothing, and looks once more after joining (see `registered`).
   */
  readonly joinAfterFirstLook: boolean;
  /** Resolves once notifications from anywhere can find the waiter. */
  enqueue(waiter: PollWaiter): Promise<void> | void;
  dequeue(waiter: PollWaiter): void;
  /** Passes wake-ups this waiter was given and did not use to the next waiters of the pool. */
  handOn(poolId: string, count: number): void;
  /** Drops the waiter from every queue and from its worker's waiters. */
  forget(waiter: PollWaiter): void;
}

/**
 * One long-poll from `listen` to its answer. It sits in its pools' queues while it has free slots
 * and nobody has woken it. A pool's notification grants it a share of the queued operations; what
 * the poll then leases is counted against the share, and at close whatever is left goes on to the
 * next waiter, unless a look that started after the grant found the pools' queues empty (the work
 * was taken by another poll, so there is nothing to pass on).
 */
export class PollWaiter {
  readonly workerId: string;
  readonly pools: readonly string[];
  #slots: number;
  readonly #signal: AbortSignal;
  readonly #queues: WaiterQueues;
  /** Operations granted per pool and not yet leased. */
  readonly #granted = new Map<string, number>();
  #queued = false;
  #woken = false;
  /** Woken by something other than a grant (a cancel, an upgrade, a hang-up, the server stopping): it answers. */
  #mustAnswer = false;
  #closed = false;
  #resolveWait: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #joining: Promise<void> | undefined;

  constructor(workerId: string, pools: readonly string[], slots: number, signal: AbortSignal, queues: WaiterQueues) {
    this.workerId = workerId;
    this.pools = pools;
    this.#slots = Math.max(0, slots);
    this.#signal = signal;
    this.#queues = queues;
  }

  get slots(): number {
    return this.#slots;
  }

  start(): void {
    if (this.#signal.aborted) {
      this.#woken = true;
      this.#mustAnswer = true;
      return;
    }
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    if (!this.#queues.joinAfterFirstLook) this.#joinQueues();
  }

  /** A pool's notification chose this poll for `count` of its operations. */
  grant(poolId: string, count: number): void {
    if (this.#closed) {
      this.#queues.handOn(poolId, count);
      return;
    }
    this.#granted.set(poolId, (this.#granted.get(poolId) ?? 0) + count);
    this.#wake();
  }

  /** Ends the wait; a woken poll is about to answer, so it takes no more grants. */
  wake(): void {
    this.#mustAnswer = true;
    this.#wake();
  }

  /**
   * After a grant whose work another poll took first (one that looked at the queue just then):
   * the poll waits on, in its old place, instead of answering with nothing. False when it must
   * answer, because it was woken for another reason.
   */
  rejoin(): boolean {
    if (this.#closed || this.#mustAnswer || !this.#woken) return false;
    this.#woken = false;
    const unused = [...this.#granted];
    this.#granted.clear();
    for (const [poolId, count] of unused) this.#queues.handOn(poolId, count);
    this.#joinQueues();
    return true;
  }

  #wake(): void {
    clearTimeout(this.#timer);
    this.#woken = true;
    this.#leaveQueues();
    this.#resolveWait?.();
  }

  wait(ms: number): Promise<void> {
    if (this.#woken || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#resolveWait = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  offer(slots: number): void {
    this.#slots = Math.max(0, slots);
    if (this.#slots === 0) this.#leaveQueues();
    else this.#joinQueues();
  }

  /**
   * After `offer`: true once a join that took a while is done, because work queued during the
   * first look and the join may have found nobody to notify, so the poll must look again.
   */
  async registered(): Promise<boolean> {
    if (!this.#joining) return false;
    await this.#joining;
    return true;
  }

  /** Operations granted and not yet leased: a poll woken by a grant leases that many, not more. */
  granted(): number {
    let total = 0;
    for (const count of this.#granted.values()) total += count;
    return total;
  }

  leasing(): { done(pools: readonly string[], queuesEmpty: boolean): void } {
    const grantedBefore = this.#granted.size > 0;
    return {
      done: (pools, queuesEmpty) => {
        for (const poolId of pools) {
          const left = this.#granted.get(poolId);
          if (left === undefined) continue;
          if (left <= 1) this.#granted.delete(poolId);
          else this.#granted.set(poolId, left - 1);
        }
        // Emptiness seen by a look that began before the grant says nothing about the granted work.
        if (queuesEmpty && grantedBefore) this.#granted.clear();
      },
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#resolveWait?.();
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#queues.forget(this);
    this.#queued = false;
    const unused = [...this.#granted];
    this.#granted.clear();
    for (const [poolId, count] of unused) this.#queues.handOn(poolId, count);
  }

  readonly #onAbort = (): void => this.wake();

  #joinQueues(): void {
    if (this.#queued || this.#woken || this.#closed || this.#slots === 0 || this.pools.length === 0) return;
    this.#queued = true;
    const joining = this.#queues.enqueue(this);
    if (joining) this.#joining = joining;
  }

  #leaveQueues(): void {
    if (!this.#queued) return;
    this.#queued = false;
    this.#queues.dequeue(this);
  }
}
