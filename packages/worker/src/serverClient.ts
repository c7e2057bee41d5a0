import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import {
  LONGSHORE_VERSION,
  LogBatchResponse,
  LongshoreError,
  OperationStateResponse,
  PollResponse,
  RegisterResponse,
  agentRoutes,
  errorFromBody,
  type CompleteRequest,
  type LogBatchRequest,
  type PollRequest,
  type RegisterRequest,
} from '@longshore/protocol';
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

/**
 * The worker's side of the channel to the server. Every call is outbound: a cluster running a
 * worker needs no inbound port. Calls reject with a LongshoreError (SERVER_UNREACHABLE and
 * TIMEOUT when the server could not answer), or with the caller's abort reason.
 */
export interface AgentChannel {
  /** The credential for every call but register(), once the worker has one. */
  useCredential(credential: string): void;
  register(request: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse>;
  /** The long-poll for work; it doubles as the heartbeat that renews the leases of `running`. */
  poll(request: PollRequest, signal?: AbortSignal): Promise<PollResponse>;
  sendLogs(operationId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<LogBatchResponse>;
  complete(operationId: string, request: CompleteRequest, signal?: AbortSignal): Promise<void>;
  operationState(operationId: string, signal?: AbortSignal): Promise<OperationStateResponse>;
  /** A package's content, from an operation's `downloadPath`. */
  downloadPackage(downloadPath: string, signal?: AbortSignal): Promise<Readable>;
}

export interface HttpAgentChannelOptions {
  serverUrl: string;
  /** Limit for one call; a poll gets its wait on top. */
  requestTimeoutMs: number;
  /** Limit for one package download, which may be large. */
  downloadTimeoutMs: number;
  /** The worker's credential; register() needs none. */
  credential?: string;
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
};

/** The channel over plain HTTP(S) with the global fetch. */
export class HttpAgentChannel implements AgentChannel {
  private credential: string | undefined;
  /** Without a trailing slash: routes start with one, and the server may live under a path. */
  private readonly base: string;

  constructor(private readonly options: HttpAgentChannelOptions) {
    this.credential = options.credential;
    this.base = options.serverUrl.replace(/\/+$/, '');
  }

  useCredential(credential: string): void {
    this.credential = credential;
  }

  async register(request: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.json(agentRoutes.register, request, checks.register, this.options.requestTimeoutMs, signal);
  }

  async poll(request: PollRequest, signal?: AbortSignal): Promise<PollResponse> {
    return this.json(agentRoutes.poll, request, checks.poll, request.waitMs + this.options.requestTimeoutMs, signal);
  }

  async sendLogs(operationId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<LogBatchResponse> {
    return this.json(agentRoutes.logs(operationId), batch, checks.logs, this.options.requestTimeoutMs, signal);
  }

  async complete(operationId: string, request: CompleteRequest, signal?: AbortSignal): Promise<void> {
    const response = await this.call('POST', agentRoutes.complete(operationId), request, this.options.requestTimeoutMs, signal);
    await response.body?.cancel();
  }

  async operationState(operationId: string, signal?: AbortSignal): Promise<OperationStateResponse> {
    const response = await this.call('GET', agentRoutes.operationState(operationId), undefined, this.options.requestTimeoutMs, signal);
    return this.parse(response, checks.state, agentRoutes.operationState(operationId), signal);
  }

  async downloadPackage(downloadPath: string, signal?: AbortSignal): Promise<Readable> {
    const response = await this.call('GET', downloadPath, undefined, this.options.downloadTimeoutMs, signal);
    if (!response.body) throw new LongshoreError('INVALID_PACKAGE', `The server sent no content for ${downloadPath}`);
    return Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  }

  private async json<T extends TSchema>(
    path: string,
    body: unknown,
    check: TypeCheck<T>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<T['static']> {
    const response = await this.call('POST', path, body, timeoutMs, signal);
    return this.parse(response, check, path, signal);
  }

  private async parse<T extends TSchema>(
    response: Response,
    check: TypeCheck<T>,
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<T['static']> {
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw this.transportError(error, path, signal);
    }
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      throw new LongshoreError('INTERNAL', `The server's answer to ${path} is not valid: ${first?.path ?? ''} ${first?.message ?? ''}`.trim());
    }
    return body;
  }

  /** One request; the time limit covers the whole exchange, body included. */
  private async call(method: string, path: string, body: unknown, timeoutMs: number, signal: AbortSignal | undefined): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': `longshore-worker/${LONGSHORE_VERSION}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.credential !== undefined) headers.authorization = `Bearer ${this.credential}`;
    const limit = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.base}${path.startsWith('/') ? '' : '/'}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, limit]) : limit,
      });
    } catch (error) {
      throw this.transportError(error, path, signal);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): errorFromBody keeps the text.
    }
    throw errorFromBody(response.status, parsed);
  }

  private transportError(error: unknown, path: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new LongshoreError('TIMEOUT', `The server at ${this.options.serverUrl} did not answer ${path} in time`);
    }
    return new LongshoreError('SERVER_UNREACHABLE', `Cannot reach the server at ${this.options.serverUrl} (${path}): ${cause}`);
  }
}
