import type { Logger } from 'pino';
import { keepTrying } from './retry.js';
import { timeLimit } from '@longshore/protocol';

/** A server call tried until it works, or until an end chosen beforehand (the worker's shutdown). */
export type RetriedServerCall = <T>(what: string, call: (signal: AbortSignal) => Promise<T>) => Promise<T>;

export interface ServerCallsOptions {
  log: Logger;
  /** Pause after an answer that a retry only repeats. */
  rejectedRetryMs: number;
  /** Jitter source, for tests. */
  random?: (() => number) | undefined;
}

/**
 * The worker's calls to the server, each tried until it works (keepTrying), and what the last
 * failure among them was: until a call works again, that is why the worker is not ready.
 */
export class ServerCalls {
  private lastProblem: string | undefined;

  constructor(private readonly options: ServerCallsOptions) {}

  /** The last failure talking to the server, until a call works again. */
  get problem(): string | undefined {
    return this.lastProblem;
  }

  failed(error: unknown): void {
    this.lastProblem = error instanceof Error ? error.message : String(error);
  }

  worked(): void {
    this.lastProblem = undefined;
  }

  async keepTrying<T>(what: string, signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const value = await keepTrying(call, {
      what,
      signal,
      log: this.options.log,
      rejectedRetryMs: this.options.rejectedRetryMs,
      random: this.options.random,
      onFailure: (error) => this.failed(error),
    });
    this.worked();
    return value;
  }

  /** One try within a short time limit, for a courtesy call: a failure is logged, never thrown. */
  async bestEffort(what: string, timeoutMs: number, call: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const limit = timeLimit(timeoutMs);
    await call(limit.signal)
      .catch((err: unknown) => this.options.log.warn({ err }, `${what} did not work; going on without it`))
      .finally(limit.clear);
  }

  /** keepTrying until the signal ends it, for the parts of the worker that call the server. */
  until(signal: AbortSignal): RetriedServerCall {
    return (what, call) => this.keepTrying(what, signal, call);
  }
}
