import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  LongshoreError,
  isErrorCode,
  type CompleteRequest,
  type Operation,
  type OperationResult,
  type PollResponse,
} from '@longshore/protocol';
import { pino, type Logger } from 'pino';
import { obtainCredential } from './credential.js';
import type { Executor } from './executors/executor.js';
import { LocalExecutor } from './executors/localExecutor.js';
import { Lifecycle, type WorkerState } from './lifecycle.js';
import { LogShipper } from './logShipper.js';
import { keepTrying } from './retry.js';
import { HttpAgentChannel, type AgentChannel } from './serverClient.js';
import { redactWorkerConfig, type WorkerConfig } from './workerConfig.js';

export interface WorkerDependencies {
  log?: Logger;
  /** Default: HTTP to config.serverUrl. */
  channel?: AgentChannel;
  /** Default: the local executor; the Kubernetes executor is passed in by whoever built its client. */
  executor?: Executor;
  /** Jitter source, for tests. */
  random?: () => number;
}

interface Held {
  readonly operation: Operation;
  readonly shipper: LogShipper;
  /** The server took it back: stop it, report nothing. */
  forgotten: boolean;
}

/** After the drain deadline, how long cancelled operations get to report their end. */
const CANCEL_GRACE_MS = 10_000;
const MAX_MESSAGE_LENGTH = 4096;

/**
 * A worker: registers once, then long-polls the server for operations and runs them with its
 * executor, at most maxConcurrentOperations at a time. Signals are not its business: whoever
 * runs it (the CLI) calls stop() once, and stop() drains.
 */
export class Worker {
  private readonly log: Logger;
  private readonly lifecycle: Lifecycle;
  private readonly channel: AgentChannel;
  private readonly executor: Executor;
  private readonly random: (() => number) | undefined;
  private readonly held = new Map<string, Held>();
  private readonly running = new Set<Promise<void>>();
  /** Aborted when the worker gives up on everything still pending: the end of stop(). */
  private readonly shutdown = new AbortController();
  /** Cuts the current poll or pause short, when what the poll asked for is no longer true. */
  private wake = new AbortController();
  private pollFree = -1;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly finished: Promise<void>;

  constructor(
    readonly config: WorkerConfig,
    dependencies: WorkerDependencies = {},
  ) {
    this.log = dependencies.log ?? pino({ name: 'longshore-worker' });
    this.lifecycle = new Lifecycle(this.log);
    this.random = dependencies.random;
    this.channel =
      dependencies.channel ??
      new HttpAgentChannel({
        serverUrl: config.serverUrl,
        requestTimeoutMs: config.requestTimeoutMs,
        downloadTimeoutMs: config.downloadTimeoutMs,
      });
    const kind = config.executor ?? 'local';
    if (dependencies.executor) {
      this.executor = dependencies.executor;
    } else if (kind === 'local') {
      this.executor = new LocalExecutor({
        channel: this.channel,
        workspace: { workerName: config.name, serverUrl: config.serverUrl },
        tempDir: config.tempDir ?? tmpdir(),
        log: this.log,
      });
    } else {
      throw new LongshoreError('CONFIG_INVALID', `/executor: the ${kind} executor must be passed to the worker by its caller`);
    }
    this.finished = new Promise((resolve, reject) => {
      this.lifecycle.onChange((state) => {
        if (state === 'stopped') resolve();
        if (state === 'failed') reject(new LongshoreError('INTERNAL', 'The worker failed; see its log'));
      });
    });
    // A rejection nobody awaits yet must not crash the process; `done` hands it on.
    void this.finished.catch(() => {});
  }

  get state(): WorkerState {
    return this.lifecycle.state;
  }

  /** Settles when the worker is stopped (resolves) or failed (rejects). */
  get done(): Promise<void> {
    return this.finished;
  }

  /** Operations held now, by id. */
  get operations(): string[] {
    return [...this.held.keys()];
  }

  /** Resolves once the worker is registered and polling (or was stopped before it got there). */
  async start(): Promise<void> {
    this.lifecycle.to('starting', 'start() called');
    this.log.info({ config: redactWorkerConfig(this.config) }, 'worker configuration');
    let credential: string;
    try {
      credential = await obtainCredential({
        config: this.config,
        channel: this.channel,
        executor: this.executor.kind,
        log: this.log,
        signal: this.shutdown.signal,
        random: this.random,
      });
    } catch (error) {
      if (this.shutdown.signal.aborted) return;
      this.log.error({ err: error }, 'the worker cannot start');
      this.lifecycle.to('failed', (error as Error).message);
      throw error;
    }
    if (!this.lifecycle.is('starting')) return;
    this.channel.useCredential(credential);
    this.lifecycle.to('running', 'registered');
    this.loop = this.pollLoop().catch((error: unknown) => {
      this.log.fatal({ err: error }, 'the poll loop broke; cancelling all operations');
      for (const id of this.held.keys()) this.executor.cancel(id);
      if (!this.lifecycle.is('stopped', 'failed')) this.lifecycle.to('failed', (error as Error).message);
    });
  }

  /** Stops taking work, lets running operations finish until the drain deadline, then cancels them. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    if (this.lifecycle.is('created')) return this.lifecycle.to('stopped', 'stop() before start()');
    if (this.lifecycle.is('stopped', 'failed')) return;
    const wasStarting = this.lifecycle.is('starting');
    this.lifecycle.to('draining', 'stop() called');
    if (wasStarting) this.shutdown.abort();
    if (this.held.size === 0) this.wake.abort();
    if (this.held.size > 0) {
      this.log.info({ operations: this.operations, deadlineMs: this.config.drainDeadlineMs }, 'waiting for running operations');
      if (!(await this.allEnded(this.config.drainDeadlineMs))) {
        this.log.warn({ operations: this.operations }, 'drain deadline reached; cancelling the operations still running');
        for (const id of this.held.keys()) this.executor.cancel(id);
        await this.allEnded(CANCEL_GRACE_MS);
      }
    }
    this.shutdown.abort();
    this.wake.abort();
    await this.loop;
    if (this.lifecycle.is('draining')) this.lifecycle.to('stopped', 'drained');
  }

  /** Whether every running operation ended within the time; the timer is cleared either way. */
  private async allEnded(timeoutMs: number): Promise<boolean> {
    const timer = new AbortController();
    try {
      return await Promise.race([
        Promise.all(this.running).then(() => true),
        sleep(timeoutMs, false, { signal: AbortSignal.any([timer.signal, this.shutdown.signal]) }).catch(() => false),
      ]);
    } finally {
      timer.abort();
    }
  }

  private async pollLoop(): Promise<void> {
    while (!this.shutdown.signal.aborted && !(this.lifecycle.is('draining') && this.held.size === 0)) {
      const accepting = this.lifecycle.is('running');
      const free = accepting ? Math.max(0, this.config.maxConcurrentOperations - this.held.size) : 0;
      const running = [...this.held.values()].filter((h) => !h.forgotten).map((h) => h.operation.id);
      let response: PollResponse;
      try {
        this.pollFree = free;
        response = await this.keepTrying('polling the server', AbortSignal.any([this.shutdown.signal, this.wake.signal]), (signal) =>
          this.channel.poll({ free, running, waitMs: this.config.pollWaitMs }, signal),
        );
      } catch (error) {
        if (this.shutdown.signal.aborted || this.wake.signal.aborted) {
          this.wake = new AbortController();
          continue;
        }
        throw error;
      } finally {
        this.pollFree = -1;
      }
      this.handle(response);
    }
  }

  private handle(response: PollResponse): void {
    for (const operation of response.operations) {
      if (this.held.has(operation.id)) continue; // Redelivered: starts are idempotent by id.
      if (!this.lifecycle.is('running') || this.held.size >= this.config.maxConcurrentOperations) {
        this.log.warn({ operationId: operation.id }, 'the server sent an operation this worker has no room for; not starting it');
        continue;
      }
      this.begin(operation);
    }
    for (const id of response.cancel) {
      if (!this.held.has(id)) continue;
      this.log.info({ operationId: id }, 'cancel requested by the server');
      this.executor.cancel(id);
    }
    for (const id of response.forget) {
      const held = this.held.get(id);
      if (!held || held.forgotten) continue;
      this.log.warn({ operationId: id }, 'the server no longer expects this worker to run the operation; stopping it');
      held.forgotten = true;
      held.shipper.close();
      this.executor.cancel(id);
    }
  }

  private begin(operation: Operation): void {
    const shipper = new LogShipper({
      operationId: operation.id,
      channel: this.channel,
      log: this.log,
      onCancelRequested: () => this.executor.cancel(operation.id),
    });
    const held: Held = { operation, shipper, forgotten: false };
    this.held.set(operation.id, held);
    this.log.info({ operationId: operation.id, taskId: operation.taskId, step: operation.step.name }, 'operation started');
    const run = this.run(held)
      .catch((error: unknown) => this.log.error({ err: error, operationId: operation.id }, 'operation ended without a report to the server'))
      .finally(() => {
        this.held.delete(operation.id);
        this.running.delete(run);
        // A poll that asked for nothing (full, or draining) is out of date now.
        if (this.pollFree === 0) this.wake.abort();
      });
    this.running.add(run);
  }

  private async run(held: Held): Promise<void> {
    const { operation, shipper } = held;
    let result: OperationResult;
    try {
      result = await this.executor.start(operation, shipper);
    } catch (error) {
      this.log.error({ err: error, operationId: operation.id }, 'the executor failed');
      result = { outcome: 'failed', message: `The worker could not run the operation: ${(error as Error).message}`, outputVariables: [] };
    }
    if (held.forgotten) return;
    this.log.info({ operationId: operation.id, outcome: result.outcome, exitCode: result.exitCode }, 'operation finished');
    let finalSeq: number;
    let message = result.message;
    try {
      finalSeq = await shipper.flush(this.shutdown.signal);
    } catch (error) {
      if (this.shutdown.signal.aborted || held.forgotten || isErrorCode(error, 'OPERATION_NOT_LEASED')) return;
      finalSeq = shipper.ackedSeq;
      message += ` (the log is incomplete: ${(error as Error).message})`;
    }
    const report: CompleteRequest = { ...result, message: message.slice(0, MAX_MESSAGE_LENGTH), finalSeq };
    await this.keepTrying('reporting the end of an operation', this.shutdown.signal, async (signal) => {
      try {
        await this.channel.complete(operation.id, report, signal);
      } catch (error) {
        // CONFLICT: an earlier attempt got through and only its answer was lost.
        if (isErrorCode(error, 'CONFLICT')) return;
        if (!isErrorCode(error, 'OPERATION_NOT_LEASED') && !isErrorCode(error, 'NOT_FOUND')) throw error;
        this.log.warn({ operationId: operation.id, err: error }, 'the server no longer holds this operation for this worker; its result is dropped');
      }
    });
  }

  private keepTrying<T>(what: string, signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return keepTrying(call, { what, signal, log: this.log, rejectedRetryMs: this.config.rejectedRetryMs, random: this.random });
  }
}

/** Creates a worker and starts it. */
export async function startWorker(config: WorkerConfig, dependencies?: WorkerDependencies): Promise<Worker> {
  const worker = new Worker(config, dependencies);
  await worker.start();
  return worker;
}
