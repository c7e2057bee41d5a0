import {
  LongshoreError,
  isErrorCode,
  type LogBatchRequest,
  type LogBatchResponse,
  type LogLine,
  type LogStream,
} from '@longshore/protocol';
import type { Logger } from 'pino';
import type { LogLevel } from './bootstrapOutput.js';
import { Backoff, isTransient, type BackoffOptions } from './retry.js';
import type { AgentChannel } from './serverClient.js';

export interface LogShipperOptions {
  operationId: string;
  channel: Pick<AgentChannel, 'sendLogs'>;
  log: Logger;
  /** What the server already stored of a resumed operation: numbering continues after it. */
  ackedSeq?: number;
  /** Called once, when the server answers that the operation should stop. */
  onCancelRequested?: () => void;
  maxBatchLines?: number;
  /** Estimated JSON size of a batch; the server's body limit must be above it. */
  maxBatchBytes?: number;
  /** How long a line may wait for company before it is sent anyway. */
  flushIntervalMs?: number;
  /** Above this many lines not yet stored, backpressure() asks the producer to wait. */
  highWaterLines?: number;
  backoff?: BackoffOptions;
}

/** What a batch carries besides lines. */
type BatchStatus = Pick<LogBatchRequest, 'progress' | 'scriptStartedAt' | 'scriptPod'>;

/** Fields besides the text, in JSON (`{"seq":123,"stream":"stdout","ts":1700000000000,...}`). */
const LINE_OVERHEAD_BYTES = 80;

/**
 * Ships one operation's log to the server. It numbers lines (`seq`, contiguous from 1), sends
 * them in batches with one request in flight, and drops a line only once the server's
 * `ackedSeq` covers it: after any failure it sends again from the first line not stored, and
 * the server's idempotent store by (operation, seq) makes resending harmless.
 */
export class LogShipper {
  /** From the replay window (see acknowledge) to the last line. */
  private lines: LogLine[] = [];
  /** Index in `lines` of seq acked + 1. */
  private head = 0;
  private acked: number;
  private nextSeq: number;
  private bufferedBytes = 0;
  /** Sent with the next batch, then again only when it changes: only the latest value matters. */
  private status: BatchStatus = {};
  private statusSent: BatchStatus = this.status;
  private inFlight = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastSendAt = 0;
  private failure: Error | undefined;
  private cancelSeen = false;
  private flushWaiters: { seq: number; resolve: (seq: number) => void; reject: (e: Error) => void }[] = [];
  private drainWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private readonly retryBackoff: Backoff;
  private maxBatchBytes: number;
  private readonly maxBatchLines: number;
  private readonly flushIntervalMs: number;
  private readonly highWaterLines: number;

  constructor(private readonly options: LogShipperOptions) {
    this.acked = options.ackedSeq ?? 0;
    this.nextSeq = this.acked + 1;
    this.maxBatchLines = options.maxBatchLines ?? 5000;
    this.maxBatchBytes = options.maxBatchBytes ?? 1 << 20;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.highWaterLines = options.highWaterLines ?? 200_000;
    this.retryBackoff = new Backoff(options.backoff ?? { initialMs: 200, maxMs: 10_000 });
  }

  /** The last seq given to a line. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get ackedSeq(): number {
    return this.acked;
  }

  get cancelRequested(): boolean {
    return this.cancelSeen;
  }

  line(stream: LogStream, text: string, ts: number, source?: number, level?: LogLevel): void {
    if (this.failure) return;
    // One object per line, always of the same shape (undefined fields are left out of the JSON).
    this.lines.push({ seq: this.nextSeq++, stream, ts, text, source, level });
    this.bufferedBytes += text.length + LINE_OVERHEAD_BYTES;
    this.schedule();
  }

  progress(percentage: number, message: string): void {
    if (this.failure) return;
    this.status = { ...this.status, progress: { percentage, message } };
    this.schedule();
  }

  scriptPod(name: string): void {
    if (this.failure || this.status.scriptPod === name) return;
    this.status = { ...this.status, scriptPod: name };
    this.schedule();
  }

  scriptStarted(ts: number): void {
    if (this.failure || this.status.scriptStartedAt !== undefined) return;
    this.status = { ...this.status, scriptStartedAt: ts };
    this.schedule();
  }

  /** A promise while too many lines wait for the server (the producer should pause until it settles). */
  backpressure(): Promise<void> | undefined {
    if (this.failure || this.lastSeq - this.acked <= this.highWaterLines) return undefined;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Sends what is buffered now and resolves with the last seq once the server stored all of it. */
  flush(signal?: AbortSignal): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.settled(this.lastSeq)) return Promise.resolve(this.lastSeq);
    return new Promise<number>((resolve, reject) => {
      // The signal may outlive many operations (the worker's own): its listener must not stay.
      const aborted = () => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== waiter);
        reject(signal!.reason as Error);
      };
      const waiter = {
        seq: this.lastSeq,
        resolve: (seq: number) => {
          signal?.removeEventListener('abort', aborted);
          resolve(seq);
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', aborted);
          reject(error);
        },
      };
      this.flushWaiters.push(waiter);
      signal?.addEventListener('abort', aborted, { once: true });
      this.schedule();
    });
  }

  /** Stops shipping and forgets what was not stored (the operation was taken away from this worker). */
  close(): void {
    this.fail(
      new LongshoreError('OPERATION_NOT_LEASED', `The log of operation ${this.options.operationId} was closed`),
    );
    this.abort.abort();
  }

  private settled(seq: number): boolean {
    return this.acked >= seq && this.status === this.statusSent;
  }

  private schedule(): void {
    if (this.inFlight || this.retryTimer || this.failure) return;
    const unsent = this.lastSeq - this.acked;
    const urgent =
      this.flushWaiters.length > 0 || unsent >= this.maxBatchLines || this.bufferedBytes >= this.maxBatchBytes;
    if (urgent) {
      this.send();
    } else if (!this.flushTimer && (unsent > 0 || this.status !== this.statusSent)) {
      const wait = Math.max(0, this.lastSendAt + this.flushIntervalMs - Date.now());
      this.flushTimer = setTimeout(() => this.send(), wait);
    }
  }

  private send(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.inFlight || this.retryTimer || this.failure) return;
    let end = this.head;
    for (let bytes = 0; end < this.lines.length && end - this.head < this.maxBatchLines; end++) {
      bytes += this.lines[end]!.text.length + LINE_OVERHEAD_BYTES;
      if (bytes > this.maxBatchBytes && end > this.head) break;
    }
    const status = this.status;
    if (end === this.head && status === this.statusSent) return;
    const batch: LogBatchRequest = { lines: this.lines.slice(this.head, end) };
    if (status !== this.statusSent) Object.assign(batch, status);
    this.inFlight = true;
    this.lastSendAt = Date.now();
    void this.options.channel.sendLogs(this.options.operationId, batch, this.abort.signal).then(
      (response) => this.stored(response, status),
      (error: unknown) => this.failed(error),
    );
  }

  private stored(response: LogBatchResponse, status: BatchStatus): void {
    this.inFlight = false;
    if (this.failure) return;
    this.retryBackoff.reset();
    // Never beyond what was numbered: a server that claims more must not make lines vanish.
    this.acknowledge(Math.min(response.ackedSeq, this.lastSeq));
    this.statusSent = status;
    if (response.cancelRequested && !this.cancelSeen) {
      this.cancelSeen = true;
      this.options.onCancelRequested?.();
    }
    this.settle();
    this.schedule();
  }

  private failed(error: unknown): void {
    this.inFlight = false;
    if (this.failure) return;
    const expected = isErrorCode(error, 'LOG_GAP') ? (error as LongshoreError).details?.expectedSeq : undefined;
    if (typeof expected === 'number' && expected !== this.acked + 1) {
      // The server stores up to expected - 1 and wants the rest again: lines it lost after
      // storing (from the replay window) or lines whose acknowledgement got lost.
      if (expected <= this.acked && !this.rewind(expected)) {
        this.fail(
          new LongshoreError(
            'LOG_GAP',
            `The server lost log lines ${expected}–${this.acked} of operation ${this.options.operationId} after storing them; they are no longer here to send again`,
            { expectedSeq: expected },
          ),
        );
        return;
      }
      this.acknowledge(Math.min(expected - 1, this.lastSeq));
      this.settle();
      this.schedule();
      return;
    }
    if (isErrorCode(error, 'PAYLOAD_TOO_LARGE') && this.maxBatchBytes > 16 * 1024) {
      this.maxBatchBytes = Math.floor(this.maxBatchBytes / 2);
      this.schedule();
      return;
    }
    // Any other refusal would only be repeated. A LOG_GAP that names the batch's own first line
    // contradicts itself; it gets the delayed retry below, so that nothing spins.
    if (!isTransient(error) && expected === undefined) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const delay = this.retryBackoff.next();
    this.options.log.warn(
      { operationId: this.options.operationId, err: error, retryInMs: delay },
      'sending log lines failed; retrying',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.send();
    }, delay);
  }

  private acknowledge(seq: number): void {
    if (seq <= this.acked) return;
    for (let i = this.head; i < this.head + (seq - this.acked); i++)
      this.bufferedBytes -= this.lines[i]!.text.length + LINE_OVERHEAD_BYTES;
    this.head += seq - this.acked;
    this.acked = seq;
    // Acknowledged lines are kept for one more batch: the replay window for a server that loses
    // its last write after acknowledging it.
    const drop = this.head - this.maxBatchLines;
    if (drop > 1024 && drop * 2 > this.lines.length) {
      this.lines = this.lines.slice(drop);
      this.head -= drop;
    }
  }

  /** Takes acknowledged lines back from the replay window, so they are sent again from `seq`. */
  private rewind(seq: number): boolean {
    const back = this.acked + 1 - seq;
    if (back > this.head) return false;
    this.head -= back;
    this.acked -= back;
    for (let i = this.head; i < this.head + back; i++)
      this.bufferedBytes += this.lines[i]!.text.length + LINE_OVERHEAD_BYTES;
    return true;
  }

  private settle(): void {
    if (this.flushWaiters.length > 0) {
      const waiting = this.flushWaiters;
      this.flushWaiters = [];
      for (const w of waiting) {
        if (this.settled(w.seq)) w.resolve(w.seq);
        else this.flushWaiters.push(w);
      }
    }
    if (this.drainWaiters.length > 0 && this.lastSeq - this.acked <= this.highWaterLines / 2) this.releaseProducers();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.lines = [];
    this.head = 0;
    for (const w of this.flushWaiters) w.reject(error);
    this.flushWaiters = [];
    this.releaseProducers();
  }

  private releaseProducers(): void {
    const waiting = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiting) resolve();
  }
}
