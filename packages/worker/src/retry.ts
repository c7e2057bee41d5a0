import { setTimeout as sleep } from 'node:timers/promises';
import { isLongshoreError } from '@longshore/protocol';
import type { Logger } from 'pino';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** For tests; Math.random otherwise. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter (half of each delay random): after an outage, workers retrying
 * on the same schedule would hit the server in waves; the random half spreads them out.
 */
export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next try. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Failures that go away by themselves: the server is restarting, a proxy timed out, the network
 * blinked. Everything else is an answer that a retry would only repeat.
 */
export function isTransient(error: unknown): boolean {
  return (
    isLongshoreError(error) &&
    (error.code === 'SERVER_UNREACHABLE' || error.code === 'TIMEOUT' || error.code === 'INTERNAL')
  );
}

export interface KeepTryingOptions {
  /** What is being tried, for the log ("polling the server"). */
  what: string;
  /** Ends the trying; the call then rejects with the signal's reason. */
  signal: AbortSignal;
  log: Logger;
  /** Pause after an answer that a retry only repeats. */
  rejectedRetryMs: number;
  random?: () => number;
  /** Told of every failed try (the worker's readiness says why it is not ready). */
  onFailure?: (error: unknown) => void;
}

/**
 * Calls until it works. Transient failures back off (500 ms doubling to 30 s, with jitter);
 * other answers are retried slowly, as a retry only repeats them until someone fixes the cause
 * (a rejected credential, a disabled worker). Each kind of failure is logged once, and the
 * recovery too, so an outage of hours makes a few log lines, not thousands.
 */
export async function keepTrying<T>(call: (signal: AbortSignal) => Promise<T>, options: KeepTryingOptions): Promise<T> {
  const { what, signal, log } = options;
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, random: options.random });
  let reported: string | undefined;
  for (;;) {
    try {
      signal.throwIfAborted();
      const value = await call(signal);
      if (reported !== undefined) log.info(`${what}: working again`);
      return value;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      options.onFailure?.(error);
      const transient = isTransient(error);
      const code = isLongshoreError(error) ? error.code : 'INTERNAL';
      if (code !== reported) {
        if (transient) log.warn({ err: error }, `${what} failed; retrying`);
        else
          log.error(
            { err: error, code },
            `${what} failed (${code}): ${(error as Error).message}; retrying every ${options.rejectedRetryMs} ms`,
          );
        reported = code;
      }
      await sleep(transient ? backoff.next() : options.rejectedRetryMs, undefined, { signal }).catch(() => {
        throw signal.reason;
      });
    }
  }
}

export interface RetryTransientOptions {
  /** Tries in all, the first included. */
  attempts: number;
  backoff: BackoffOptions;
  /** Ends the trying, also during a pause; the call then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Asked after each failure: true ends the trying with that failure (the operation was stopped). */
  giveUp?: () => boolean;
}

/**
 * Calls a few times while it fails transiently (isTransient), backing off with jitter; any other
 * failure, or the last one, is thrown as it is. For calls an operation waits on, where the
 * answer must come soon or the operation fails: keepTrying is for the worker's own calls.
 */
export async function retryTransient<T>(call: () => Promise<T>, options: RetryTransientOptions): Promise<T> {
  const { signal } = options;
  const backoff = new Backoff(options.backoff);
  for (let tried = 1; ; tried++) {
    try {
      return await call();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (tried >= options.attempts || !isTransient(error) || options.giveUp?.()) throw error;
      await sleep(backoff.next(), undefined, signal ? { signal } : {}).catch(() => {
        throw signal?.reason;
      });
    }
  }
}
