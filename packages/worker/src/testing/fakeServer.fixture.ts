import { Readable } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import {
  LongshoreError,
  type CompleteRequest,
  type HealthCheckRequest,
  type HealthReport,
  type LogBatchRequest,
  type LogBatchResponse,
  type LogLine,
  type Operation,
  type OperationStateResponse,
  type PackageTokenResponse,
  type PollRequest,
  type PollResponse,
  type RegisterRequest,
  type WorkerInfoRequest,
  type RegisterResponse,
} from '@longshore/protocol';
import type { AgentChannel } from '../serverClient.js';

/** What the fake does to the next log batch. */
export type LogFault =
  | 'unreachable' // nothing stored, the network failed
  | 'lostAck' // stored, but the answer never arrives
  | 'half' // only the first half stored and acknowledged
  | 'forgetAfterAck'; // stored and acknowledged, then lost (the next batch gets LOG_GAP)

/**
 * An in-memory server for the agent API, as strict as the real one should be: log lines are
 * stored idempotently by seq, a batch that starts past the next expected seq gets LOG_GAP, a
 * poll hands out at most `free` queued operations and waits while there is nothing.
 */
export class FakeServer implements AgentChannel {
  readonly logs = new Map<string, LogLine[]>();
  readonly progress = new Map<string, LogBatchRequest['progress']>();
  readonly completed = new Map<string, CompleteRequest>();
  readonly polls: PollRequest[] = [];
  readonly registrations: RegisterRequest[] = [];
  readonly infos: WorkerInfoRequest[] = [];
  readonly batches: { operationId: string; first: number | undefined; count: number }[] = [];
  readonly credentials: (string | undefined)[] = [];
  logFaults: LogFault[] = [];
  /** Errors the next calls of a kind throw, in order. */
  failures: { register: Error[]; poll: Error[]; complete: Error[] } = { register: [], poll: [], complete: [] };
  completeAnswerGate: Promise<void> | undefined;
  cancelRequested = new Set<string>();
  /** What operationState answers for these ids (a restarted worker asks about what it left behind). */
  readonly operationStates = new Map<string, OperationStateResponse>();
  queue: Operation[] = [];
  pendingCancel: string[] = [];
  pendingForget: string[] = [];
  pendingHealthChecks: HealthCheckRequest[] = [];
  /** Health reports received, by check id, in order. */
  readonly healthReports: { checkId: string; report: HealthReport }[] = [];
  /** How many times the worker said it went offline. */
  offlineCalls = 0;
  /** Set to make offline() hang until aborted (a server that is down). */
  offlineHangs = false;
  packages = new Map<string, Uint8Array>();
  /** Operation ids package tokens were asked for, in order; and errors the next asks throw. */
  readonly packageTokensIssued: string[] = [];
  packageTokenFailures: Error[] = [];
  private credential: string | undefined;
  private wake: (() => void) | undefined;

  useCredential(credential: string): void {
    this.credential = credential;
  }

  /** Offers an operation (or a cancel, or a forget) to the next poll, ending a waiting one. */
  offer(change: { operation?: Operation; cancel?: string; forget?: string; healthCheck?: HealthCheckRequest }): void {
    if (change.operation) this.queue.push(change.operation);
    if (change.healthCheck) this.pendingHealthChecks.push(change.healthCheck);
    if (change.cancel) this.pendingCancel.push(change.cancel);
    if (change.forget) this.pendingForget.push(change.forget);
    this.wake?.();
  }

  async updateInfo(request: WorkerInfoRequest): Promise<void> {
    await turn();
    this.infos.push(request);
  }

  async register(request: RegisterRequest): Promise<RegisterResponse> {
    await turn();
    this.registrations.push(request);
    const failure = this.failures.register.shift();
    if (failure) throw failure;
    return {
      workerId: `w-${this.registrations.length}`,
      credential: `cred-${this.registrations.length}`,
      pools: ['default'],
    };
  }

  async poll(request: PollRequest, signal?: AbortSignal): Promise<PollResponse> {
    this.polls.push(request);
    this.credentials.push(this.credential);
    const failure = this.failures.poll.shift();
    if (failure) {
      await turn();
      throw failure;
    }
    const ready = () =>
      (request.free > 0 && this.queue.length > 0) ||
      this.pendingCancel.length > 0 ||
      this.pendingForget.length > 0 ||
      this.pendingHealthChecks.length > 0;
    if (!ready()) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, request.waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      });
      this.wake = undefined;
    }
    const healthChecks = this.pendingHealthChecks.splice(0);
    return {
      operations: this.queue.splice(0, request.free),
      cancel: this.pendingCancel.splice(0),
      forget: this.pendingForget.splice(0),
      ...(healthChecks.length ? { healthChecks } : {}),
    };
  }

  async sendLogs(operationId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<LogBatchResponse> {
    await turn();
    signal?.throwIfAborted();
    this.batches.push({ operationId, first: batch.lines[0]?.seq, count: batch.lines.length });
    const fault = this.logFaults.shift();
    if (fault === 'unreachable') throw new LongshoreError('SERVER_UNREACHABLE', 'fake network failure');
    const log = this.logs.get(operationId) ?? [];
    this.logs.set(operationId, log);
    const first = batch.lines[0]?.seq;
    if (first !== undefined && first > log.length + 1) {
      throw new LongshoreError('LOG_GAP', 'lines are missing', { expectedSeq: log.length + 1 });
    }
    const lines = fault === 'half' ? batch.lines.slice(0, Math.ceil(batch.lines.length / 2)) : batch.lines;
    // Through JSON, as on the wire.
    for (const line of lines) if (line.seq === log.length + 1) log.push(JSON.parse(JSON.stringify(line)) as LogLine);
    if (batch.progress) this.progress.set(operationId, batch.progress);
    const ackedSeq = log.length;
    if (fault === 'lostAck') throw new LongshoreError('TIMEOUT', 'fake lost answer');
    if (fault === 'forgetAfterAck') log.splice(Math.max(0, log.length - Math.ceil(lines.length / 2)));
    return { ackedSeq, lastSource: 0, cancelRequested: this.cancelRequested.has(operationId) };
  }

  async complete(operationId: string, request: CompleteRequest): Promise<void> {
    await turn();
    const failure = this.failures.complete.shift();
    if (failure) throw failure;
    this.completed.set(operationId, request);
    // Taken, and the answer held back: what a worker sees of a slow server.
    await this.completeAnswerGate;
  }

  async healthReport(checkId: string, report: HealthReport): Promise<void> {
    await turn();
    this.healthReports.push({ checkId, report: JSON.parse(JSON.stringify(report)) as HealthReport });
  }

  async offline(signal?: AbortSignal): Promise<void> {
    this.offlineCalls++;
    if (!this.offlineHangs) return turn();
    await new Promise<void>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
  }

  async operationState(operationId: string): Promise<OperationStateResponse> {
    const set = this.operationStates.get(operationId);
    if (set) return set;
    const acked = this.logs.get(operationId)?.length ?? 0;
    return { id: operationId, state: 'running', ackedSeq: acked, lastSource: 0, cancelRequested: false };
  }

  async packageToken(operationId: string): Promise<PackageTokenResponse> {
    await turn();
    const failure = this.packageTokenFailures.shift();
    if (failure) throw failure;
    this.packageTokensIssued.push(operationId);
    return { token: `lsp_fake-${operationId}`, expiresAt: new Date(Date.now() + 3600_000).toISOString() };
  }

  async downloadPackage(downloadPath: string): Promise<Readable> {
    await turn();
    const content = this.packages.get(downloadPath);
    if (!content) throw new LongshoreError('NOT_FOUND', `no package at ${downloadPath}`);
    // Small chunks, as a network delivers them.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < content.length; i += 1000) chunks.push(content.subarray(i, i + 1000));
    return Readable.from(chunks);
  }
}
