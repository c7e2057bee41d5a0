/** What the task side tells waiting workers: there is new work, or something they hold changed. */
export interface WorkSignals {
  /** Work was queued in the pool: its waiting workers look again. */
  notifyPool(poolId: string): void;
  /** Something the worker holds changed (a cancel): it looks again. */
  wakeWorker(workerId: string): void;
}

export interface Wakeup {
  /** Resolves when woken, or after `ms`. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

interface Waiter {
  workerId: string;
  pools: ReadonlySet<string>;
  wake: () => void;
}

/**
 * The workers whose polls are waiting for work. Kept apart from the dispatcher so that the task
 * runner can signal them without depending on the dispatcher, which depends on the task runner.
 */
export class WorkerWakeups implements WorkSignals {
  readonly #waiters = new Set<Waiter>();

  notifyPool(poolId: string): void {
    for (const w of this.#waiters) if (w.pools.has(poolId)) w.wake();
  }

  wakeWorker(workerId: string): void {
    for (const w of this.#waiters) if (w.workerId === workerId) w.wake();
  }

  wakeAll(): void {
    for (const w of this.#waiters) w.wake();
  }

  /**
   * Starts listening for a worker before it looks for work, so that work arriving between the
   * look and the wait is not missed. An abort of `signal` wakes it too.
   */
  listen(workerId: string, pools: readonly string[], signal: AbortSignal): Wakeup {
    let woken = false;
    let resolveWait: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const waiter: Waiter = {
      workerId,
      pools: new Set(pools),
      wake: () => {
        woken = true;
        resolveWait?.();
      },
    };
    this.#waiters.add(waiter);
    signal.addEventListener('abort', waiter.wake, { once: true });
    return {
      wait: (ms) =>
        woken
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              resolveWait = resolve;
              timer = setTimeout(resolve, ms);
            }),
      cancel: () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', waiter.wake);
        this.#waiters.delete(waiter);
      },
    };
  }
}
