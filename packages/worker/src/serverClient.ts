import type { X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  LogBatchResponse,
  LongshoreError,
  OperationStateResponse,
  PackageTokenResponse,
  PollResponse,
  RegisterResponse,
  agentRoutes,
  type CompleteRequest,
  type HealthReport,
  type LogBatchRequest,
  type PollRequest,
  type RegisterRequest,
  type WorkerInfoRequest,
} from '@longshore/protocol';
import { WORKER_VERSION } from './workerVersion.js';
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ServerTransport, type ServerRequest } from '@longshore/client/node';

/**
 * The worker's side of the channel to the server. Every call is outbound: a cluster running a
 * worker needs no inbound port. Calls reject with a LongshoreError (SERVER_UNREACHABLE and
 * TIMEOUT when the server could not answer), or with the caller's abort reason.
 */
export interface AgentChannel {
  /** The credential for every call but register(), once the worker has one. */
  useCredential(credential: string): void;
  register(request: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse>;
  /** Tells the server what this worker is now; called at every start. */
  updateInfo(request: WorkerInfoRequest, signal?: AbortSignal): Promise<void>;
  /** The long-poll for work; it doubles as the heartbeat that renews the leases of `running`. */
  poll(request: PollRequest, signal?: AbortSignal): Promise<PollResponse>;
  sendLogs(operationId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<LogBatchResponse>;
  complete(operationId: string, request: CompleteRequest, signal?: AbortSignal): Promise<void>;
  operationState(operationId: string, signal?: AbortSignal): Promise<OperationStateResponse>;
  /** A package's content, from an operation's `downloadPath`. */
  downloadPackage(downloadPath: string, signal?: AbortSignal): Promise<Readable>;
  /** A credential for the packages of one operation this worker holds, for a script pod to download them with. */
  packageToken(operationId: string, signal?: AbortSignal): Promise<PackageTokenResponse>;
  /** What a health check the server asked for (in a poll answer) found. */
  healthReport(checkId: string, report: HealthReport, signal?: AbortSignal): Promise<void>;
  /** Tells the server this worker stopped cleanly: it is offline now, not once its heartbeat is missed. */
  offline(signal?: AbortSignal): Promise<void>;
  /** The certificate the server presented, once a connection to it was trusted (HTTPS only). */
  readonly serverCertificate?: X509Certificate | undefined;
}

export interface HttpAgentChannelOptions {
  serverUrl: string;
  /** Limit for one call; a poll gets its wait on top. */
  requestTimeoutMs: number;
  /** Limit for one package download, which may be large. */
  downloadTimeoutMs: number;
  /** The worker's credential; register() needs none. */
  credential?: string;
  /** Pins an HTTPS server's certificate (see ServerTrust.thumbprint); the system's CAs decide when absent. */
  serverThumbprint?: string;
}

// TypeBox rejects values of a format nobody registered; Operation.id is a uuid.
if (!FormatRegistry.Has('uuid')) {
  FormatRegistry.Set('uuid', (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value));
}

const checks = {
  register: TypeCompiler.Compile(RegisterResponse),
  poll: TypeCompiler.Compile(PollResponse),
  logs: TypeCompiler.Compile(LogBatchResponse),
  state: TypeCompiler.Compile(OperationStateResponse),
  packageToken: TypeCompiler.Compile(PackageTokenResponse),
};

/** The channel over HTTP(S); an HTTPS server is trusted by its pinned thumbprint, or else by the system's CAs. */
export class HttpAgentChannel implements AgentChannel {
  private credential: string | undefined;
  private readonly transport: ServerTransport;

  constructor(private readonly options: HttpAgentChannelOptions) {
    this.credential = options.credential;
    this.transport = new ServerTransport({
      serverUrl: options.serverUrl,
      userAgent: `longshore-worker/${WORKER_VERSION}`,
      ...(options.serverThumbprint ? { thumbprint: options.serverThumbprint } : {}),
    });
  }

  /** The certificate the server presented, once the channel trusted a connection to it (HTTPS only). */
  get serverCertificate(): X509Certificate | undefined {
    return this.transport.serverCertificate;
  }

  useCredential(credential: string): void {
    this.credential = credential;
  }

  async register(request: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.json(agentRoutes.register, request, checks.register, this.options.requestTimeoutMs, signal);
  }

  async updateInfo(request: WorkerInfoRequest, signal?: AbortSignal): Promise<void> {
    const response = await this.transport.ok(
      this.request('PUT', agentRoutes.workerInfo, request, this.options.requestTimeoutMs, signal),
    );
    response.resume();
  }

  async poll(request: PollRequest, signal?: AbortSignal): Promise<PollResponse> {
    return this.json(agentRoutes.poll, request, checks.poll, request.waitMs + this.options.requestTimeoutMs, signal);
  }

  async sendLogs(operationId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<LogBatchResponse> {
    return this.json(agentRoutes.logs(operationId), batch, checks.logs, this.options.requestTimeoutMs, signal);
  }

  async complete(operationId: string, request: CompleteRequest, signal?: AbortSignal): Promise<void> {
    await this.post(agentRoutes.complete(operationId), request, signal);
  }

  /** A POST whose answer carries nothing the worker reads. */
  private async post(path: string, body: unknown, signal: AbortSignal | undefined): Promise<void> {
    const response = await this.transport.ok(this.request('POST', path, body, this.options.requestTimeoutMs, signal));
    response.resume();
  }

  async healthReport(checkId: string, report: HealthReport, signal?: AbortSignal): Promise<void> {
    await this.post(agentRoutes.healthReport(checkId), report, signal);
  }

  async offline(signal?: AbortSignal): Promise<void> {
    await this.post(agentRoutes.offline, undefined, signal);
  }

  async operationState(operationId: string, signal?: AbortSignal): Promise<OperationStateResponse> {
    const path = agentRoutes.operationState(operationId);
    return this.check(
      path,
      checks.state,
      await this.transport.json(this.request('GET', path, undefined, this.options.requestTimeoutMs, signal)),
    );
  }

  async packageToken(operationId: string, signal?: AbortSignal): Promise<PackageTokenResponse> {
    return this.json(
      agentRoutes.packageToken(operationId),
      undefined,
      checks.packageToken,
      this.options.requestTimeoutMs,
      signal,
    );
  }

  async downloadPackage(downloadPath: string, signal?: AbortSignal): Promise<Readable> {
    return this.transport.ok(this.request('GET', downloadPath, undefined, this.options.downloadTimeoutMs, signal));
  }

  private async json<T extends TSchema>(
    path: string,
    body: unknown,
    check: TypeCheck<T>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<T['static']> {
    return this.check(path, check, await this.transport.json(this.request('POST', path, body, timeoutMs, signal)));
  }

  private check<T extends TSchema>(path: string, check: TypeCheck<T>, body: unknown): T['static'] {
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      throw new LongshoreError(
        'INTERNAL',
        `The server's answer to ${path} is not valid: ${first?.path ?? ''} ${first?.message ?? ''}`.trim(),
      );
    }
    return body;
  }

  /** One request; the time limit covers the whole exchange, body included. */
  private request(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): ServerRequest {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.credential !== undefined) headers.authorization = `Bearer ${this.credential}`;
    return {
      method,
      path,
      headers,
      timeoutMs,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    };
  }
}
