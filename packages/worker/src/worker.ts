import { tmpdir } from 'node:os';
import { LongshoreError, type Operation, type PollResponse } from '@longshore/protocol';
import { WORKER_VERSION } from './workerVersion.js';
import { pino, type Logger } from 'pino';
import { FileCredentialStore, obtainCredential } from './credential.js';
import type { Executor, ResumePoint } from './executors/executor.js';
import { endedWithin } from './endedWithin.js';
import type { ExecutorParts } from './executors/executorProvider.js';
import { createExecutor, type ExecutorSettings } from './executors/registry.js';
import { Lifecycle, type WorkerState } from './lifecycle.js';
import { HealthCheckRunner } from './health/healthCheckRunner.js';
import { startHealthServer, type HealthServer, type Readiness } from './health/healthServer.js';
import { WorkerMetrics } from './health/workerMetrics.js';
import { resumeLeftovers } from './leftoverResumption.js';
import { LogShipper } from './logShipper.js';
import { runOperation } from './operationRun.js';
import { ServerCalls } from './serverCalls.js';
import { HttpAgentChannel, type AgentChannel } from './serverClient.js';
import { redactWorkerConfig, type WorkerConfig } from './workerConfig.js';

export interface WorkerDependencies {
  log?: Logger;
  /** Default: HTTP to config.serverUrl. */
  channel?: AgentChannel;
  /** Default: the executor config.executor names, made at start() by its provider (executors/registry.ts). */
  executor?: Executor;
  /** The chosen executor's own settings (the Kubernetes executor's cluster and script pods). */
  executorSettings?: ExecutorSettings;
  /** Jitter source, for tests. */
  random?: () => number;
  metrics?: WorkerMetrics;
}

interface Held {
  readonly operation: Operation;
  readonly shipper: LogShipper;
  /** The server took it back: stop it, report nothing. */
  forgotten: boolean;
  /** The server has its result, only the release is left: polls leave it out, or the server would answer `forget` for it. */
  reported: boolean;
  /** Its run is over, its result on the way: a forget crossing the report has nothing to stop. */
  ended: boolean;
  /**
   * Left running for this worker's successor (its own upgrade): polls still list it, so the server
   * keeps it; nothing is reported, and the drain neither waits for it nor cancels it.
   */
  left: boolean;
}

/** After the drain deadline, how long cancelled operations get to report their end. */
const CANCEL_GRACE_MS = 10_000;
/** Telling the server the worker stopped is a courtesy (it notices missed heartbeats anyway): a server that is down must not hold the stop up. */
const OFFLINE_CALL_MS = 3_000;

/**
 * A worker: registers once, then long-polls the server for operations and runs them with its
 * executor, at most maxConcurrentOperations at a time. Signals are not its business: whoever
 * runs it (the CLI) calls stop() once, and stop() drains.
 */
export class Worker {
  private readonly log: Logger;
  private readonly lifecycle: Lifecycle;
  private readonly channel: AgentChannel;
  private readonly dependencies: WorkerDependencies;
  /** Set by the constructor when passed in, else by start(). */
  private executorParts: ExecutorParts | undefined;
  /** Made by start(), so stop() ends it. */
  private ownsExecutor = false;
  private readonly random: (() => number) | undefined;
  private readonly metrics: WorkerMetrics;
  private health: HealthServer | undefined;
  private readonly serverCalls: ServerCalls;
  private readonly healthChecks: HealthCheckRunner;
  /** How long the last poll took to be answered: a health check reports it as the channel's round trip. */
  private lastPollMs: number | undefined;
  /** The worker has its credential: the server knows it, and is told when it stops. */
  private registered = false;
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
    this.metrics = dependencies.metrics ?? new WorkerMetrics();
    this.dependencies = dependencies;
    this.serverCalls = new ServerCalls({ log: this.log, rejectedRetryMs: config.rejectedRetryMs, random: this.random });
    this.channel =
      dependencies.channel ??
      new HttpAgentChannel({
        serverUrl: config.serverUrl,
        serverThumbprint: config.serverThumbprint,
        requestTimeoutMs: config.requestTimeoutMs,
        downloadTimeoutMs: config.downloadTimeoutMs,
      });
    if (dependencies.executor) this.useExecutor({ executor: dependencies.executor });
    this.healthChecks = new HealthCheckRunner({
      channel: this.channel,
      executor: () => this.executorParts?.executor,
      workspaceDir: config.tempDir ?? tmpdir(),
      lastPollMs: () => this.lastPollMs,
      signal: this.shutdown.signal,
      log: this.log,
    });
    this.finished = new Promise((resolve, reject) => {
      this.lifecycle.onChange((state) => {
        if (state === 'stopped') resolve();
        if (state === 'failed') reject(new LongshoreError('INTERNAL', 'The worker failed; see its log'));
      });
    });
    // A rejection nobody awaits yet must not crash the process; `done` hands it on.
    void this.finished.catch(() => {});
    this.metrics.observe({ runningOperations: () => this.held.size });
  }

  private get executor(): Executor {
    if (!this.executorParts) throw new LongshoreError('INTERNAL', 'The worker has no executor before start()');
    return this.executorParts.executor;
  }

  /** The executor passed in, or the one config.executor names, made now. */
  private async executorReady(): Promise<ExecutorParts> {
    if (this.executorParts) return this.executorParts;
    const parts = await createExecutor(
      this.config,
      { channel: this.channel, log: this.log, metrics: this.metrics },
      this.dependencies.executorSettings,
    );
    this.useExecutor(parts);
    this.ownsExecutor = true;
    return parts;
  }

  private useExecutor(parts: ExecutorParts): void {
    this.executorParts = parts;
    // A poll that asked for nothing is out of date once the executor has room again.
    parts.executor.onCapacityChange?.(() => {
      if (this.pollFree === 0 && this.free() > 0) this.wake.abort();
    });
  }

  get readiness(): Readiness {
    const serverProblem = this.serverCalls.problem;
    if (!this.lifecycle.is('running'))
      return { ready: false, reason: `The worker is ${this.state}${serverProblem ? `: ${serverProblem}` : ''}` };
    if (serverProblem) return { ready: false, reason: serverProblem };
    return { ready: true, reason: `running ${this.held.size} operations` };
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

  /** The port /livez, /readyz and /metrics are served on, once started with a healthPort. */
  get healthPort(): number | undefined {
    return this.health?.port;
  }

  /** Resolves once the worker is registered and polling (or was stopped before it got there). */
  async start(): Promise<void> {
    this.lifecycle.to('starting', 'start() called');
    this.log.info({ config: redactWorkerConfig(this.config) }, 'worker configuration');
    if (this.config.healthPort !== undefined) {
      // First: while registration waits on the server, readiness is what tells the operator why.
      this.health = await startHealthServer({
        port: this.config.healthPort,
        readiness: () => this.readiness,
        alive: () => !this.lifecycle.is('failed'),
        metrics: this.metrics,
      });
    }
    let credential: string;
    let metadata: Record<string, string>;
    try {
      const parts = await this.executorReady();
      metadata = (await parts.describe?.()) ?? {};
      // Before registering, which may wait long on the server: a killed worker's scripts may still be running.
      await this.executor.endLeftovers?.();
      credential = await obtainCredential({
        config: this.config,
        store: parts.credentials ?? new FileCredentialStore(this.config.dataDir),
        metadata,
        channel: this.channel,
        executor: this.executor.kind,
        log: this.log,
        signal: this.shutdown.signal,
        random: this.random,
        onFailure: (error) => this.serverCalls.failed(error),
      });
      this.serverCalls.worked();
    } catch (error) {
      if (this.shutdown.signal.aborted) return;
      this.log.error({ err: error }, 'the worker cannot start');
      this.lifecycle.to('failed', (error as Error).message);
      throw error;
    }
    if (!this.lifecycle.is('starting')) return;
    this.channel.useCredential(credential);
    this.registered = true;
    try {
      const info = { version: WORKER_VERSION, capacity: this.config.maxConcurrentOperations, metadata };
      await this.serverCalls.keepTrying('telling the server what this worker is', this.shutdown.signal, (signal) =>
        this.channel.updateInfo(info, signal),
      );
      await resumeLeftovers({
        executor: this.executor,
        channel: this.channel,
        log: this.log,
        signal: this.shutdown.signal,
        keepTrying: this.serverCalls.until(this.shutdown.signal),
        resume: (operation, resume, ackedSeq) => this.begin(operation, resume, ackedSeq),
      });
    } catch (error) {
      if (this.shutdown.signal.aborted) return;
      throw error;
    }
    if (!this.lifecycle.is('starting')) return;
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
    this.leaveOutliving();
    if (this.draining === 0) this.wake.abort();
    if (this.draining > 0) {
      this.log.info(
        { operations: this.operations, deadlineMs: this.config.drainDeadlineMs },
        'waiting for running operations',
      );
      if (!(await endedWithin(this.running, this.config.drainDeadlineMs, this.shutdown.signal))) {
        this.log.warn(
          { operations: this.operations },
          'drain deadline reached; cancelling the operations still running',
        );
        for (const [id, held] of this.held) if (!held.left) this.executor.cancel(id);
        await endedWithin(this.running, CANCEL_GRACE_MS, this.shutdown.signal);
      }
    }
    this.shutdown.abort();
    this.wake.abort();
    await this.loop;
    await this.healthChecks.idle();
    if (this.registered && this.lifecycle.is('draining'))
      await this.serverCalls.bestEffort('telling the server this worker stopped', OFFLINE_CALL_MS, (signal) =>
        this.channel.offline(signal),
      );
    if (this.ownsExecutor) await this.executor.close?.();
    await this.health?.close();
    if (this.lifecycle.is('draining')) this.lifecycle.to('stopped', 'drained');
  }

  /** Held operations a stop waits for: all but those left to the successor. */
  private get draining(): number {
    let count = 0;
    for (const held of this.held.values()) if (!held.left) count++;
    return count;
  }

  /**
   * The worker's own upgrade outlives it: its script pod is what replaces this worker, so stopping
   * must not wait for it (a deadlock: the pod waits for the new worker, which waits for this one
   * to end) nor delete it. The executor stops following it; the successor resumes it.
   */
  private leaveOutliving(): void {
    if (!this.executor.leave) return;
    for (const [id, held] of this.held) {
      if (held.operation.purpose !== 'worker-upgrade' || held.left || held.reported) continue;
      if (!this.executor.leave(id)) continue;
      this.log.info({ operationId: id }, 'left the upgrade running for the next start of this worker to resume');
      held.left = true;
      held.shipper.close();
    }
  }

  private async pollLoop(): Promise<void> {
    while (!this.shutdown.signal.aborted && !(this.lifecycle.is('draining') && this.draining === 0)) {
      const free = this.lifecycle.is('running') ? this.free() : 0;
      const running = [...this.held.values()].filter((h) => !h.forgotten && !h.reported).map((h) => h.operation.id);
      let response: PollResponse;
      try {
        this.pollFree = free;
        response = await this.serverCalls.keepTrying(
          'polling the server',
          AbortSignal.any([this.shutdown.signal, this.wake.signal]),
          async (signal) => {
            const sent = performance.now();
            const answer = await this.channel.poll({ free, running, waitMs: this.config.pollWaitMs }, signal);
            this.lastPollMs = Math.round(performance.now() - sent);
            return answer;
          },
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

  /** How many more operations to ask for: under maxConcurrentOperations and what the executor has room for. */
  private free(): number {
    const own = this.config.maxConcurrentOperations - this.held.size;
    return Math.max(0, Math.min(own, this.executor.capacity?.() ?? own));
  }

  private handle(response: PollResponse): void {
    if (response.healthChecks?.length) this.healthChecks.run(response.healthChecks);
    for (const operation of response.operations) {
      if (this.held.has(operation.id)) continue; // Redelivered: starts are idempotent by id.
      if (!this.lifecycle.is('running') || this.held.size >= this.config.maxConcurrentOperations) {
        this.log.warn(
          { operationId: operation.id },
          'the server sent an operation this worker has no room for; not starting it',
        );
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
      // An operation whose report the server took while this poll waited is forgotten by it, and ended here.
      if (!held || held.forgotten || held.reported || held.ended) continue;
      this.log.warn({ operationId: id }, 'the server no longer expects this worker to run the operation; stopping it');
      held.forgotten = true;
      held.shipper.close();
      this.executor.cancel(id);
    }
  }

  private begin(operation: Operation, resume?: ResumePoint, ackedSeq?: number): void {
    const shipper = new LogShipper({
      operationId: operation.id,
      ...(ackedSeq !== undefined ? { ackedSeq } : {}),
      channel: this.channel,
      log: this.log,
      onCancelRequested: () => this.executor.cancel(operation.id),
    });
    const held: Held = { operation, shipper, forgotten: false, reported: false, ended: false, left: false };
    this.held.set(operation.id, held);
    this.log.info(
      { operationId: operation.id, taskId: operation.taskId, step: operation.step.name },
      'operation started',
    );
    const run = runOperation(held, resume, {
      executor: this.executor,
      channel: this.channel,
      log: this.log,
      metrics: this.metrics,
      signal: this.shutdown.signal,
      keepTrying: this.serverCalls.until(this.shutdown.signal),
    })
      .catch((error: unknown) =>
        this.log.error({ err: error, operationId: operation.id }, 'operation ended without a report to the server'),
      )
      .finally(() => {
        if (!held.left) this.held.delete(operation.id);
        this.running.delete(run);
        // A poll that asked for nothing (full, or draining) is out of date now.
        if (this.pollFree === 0) this.wake.abort();
      });
    this.running.add(run);
  }
}

/** Creates a worker and starts it. */
export async function startWorker(config: WorkerConfig, dependencies?: WorkerDependencies): Promise<Worker> {
  const worker = new Worker(config, dependencies);
  await worker.start();
  return worker;
}
