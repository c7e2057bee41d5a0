import { LongshoreError, errorFromBody, isLongshoreError, timeLimit } from '@longshore/protocol';

export interface ApiConnectionOptions {
  /** The server's URL; it may live under a path (https://example.com/longshore). */
  url: string;
  /**
   * An API key (the admin key a server writes at first start, or one from POST /api/api-keys) or
   * a session token from a password sign-in. Absent: only what needs no credential (signing in).
   */
  apiKey?: string;
  /**
   * The fetch to call the server with: the global one when absent. In Node, pinnedFetch from
   * `@longshore/client/node` checks a self-signed server's certificate by its thumbprint.
   */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Limit for one call, the answer's body included; a followed log has none but its signal. */
  timeoutMs?: number;
}

export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** From the server URL on, with its parameters encoded. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is: a package's content. */
  bytes?: { content: Uint8Array | Blob; contentType: string };
  signal?: AbortSignal;
}

/** Enough of an error body to read its code and message; a proxy's page may be much longer. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Calls to one Longshore server over fetch, with its API key. Calls reject with LongshoreErrors:
 * the server's own error (its JSON body, as errorFromBody reads it), SERVER_UNREACHABLE, TIMEOUT,
 * what the fetch itself rejected with when that is a LongshoreError (a certificate refusal), or the
 * caller's abort reason.
 */
export class ApiConnection {
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #timeoutMs: number;

  constructor(options: ApiConnectionOptions) {
    this.url = options.url.replace(/\/+$/, '');
    if (!URL.canParse(this.url) || !/^https?:$/.test(new URL(this.url).protocol)) {
      throw new LongshoreError(
        'CONFIG_INVALID',
        `The server URL '${options.url}' is not an http:// or https:// URL (e.g. https://longshore.example.com:8080)`,
      );
    }
    this.#apiKey = options.apiKey;
    // Called unbound: a browser's fetch refuses to run with another `this` than the window.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The answer's JSON body; undefined when it has none (a 204). */
  async json<T>(call: ApiCall): Promise<T> {
    const limit = timeLimit(this.#timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, limit.signal]) : limit.signal;
    let text: string;
    try {
      const response = await this.send(call, signal, 'application/json');
      try {
        text = await response.text();
      } catch (error) {
        throw this.failure(error, call, signal);
      }
    } finally {
      limit.clear();
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new LongshoreError(
        'INTERNAL',
        `The answer of the server at ${this.url} to ${call.path} is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /** A 2xx answer whose body the caller reads as it comes (server-sent events); no time limit but the signal. */
  stream(call: ApiCall): Promise<Response> {
    return this.send(call, call.signal, 'text/event-stream');
  }

  private async send(call: ApiCall, signal: AbortSignal | undefined, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    let body: RequestInit['body'];
    // The DOM's BodyInit takes only bytes over an ArrayBuffer; Node's Buffers may share memory, which fetch copies anyway.
    if (call.bytes)
      [body, headers['content-type']] = [
        call.bytes.content as NonNullable<RequestInit['body']>,
        call.bytes.contentType,
      ];
    else if (call.json !== undefined) [body, headers['content-type']] = [JSON.stringify(call.json), 'application/json'];
    let response: Response;
    try {
      response = await this.#fetch(this.urlOf(call), {
        method: call.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw this.failure(error, call, signal);
    }
    if (response.ok) return response;
    let text: string;
    try {
      text = await readLimited(response, MAX_ERROR_BODY);
    } catch (error) {
      throw this.failure(error, call, signal);
    }
    let parsed: unknown = text.slice(0, 500);
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): errorFromBody keeps the text.
    }
    throw errorFromBody(response.status, parsed);
  }

  private urlOf(call: ApiCall): string {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {}))
      if (value !== undefined) query.set(name, String(value));
    const search = query.toString();
    return `${this.url}${call.path}${search ? `?${search}` : ''}`;
  }

  private failure(error: unknown, call: ApiCall, signal: AbortSignal | undefined): Error {
    if (call.signal?.aborted) return call.signal.reason as Error;
    if (signal?.aborted) {
      return new LongshoreError(
        'TIMEOUT',
        `The server at ${this.url} did not answer ${call.path} within ${this.#timeoutMs} ms`,
      );
    }
    if (isLongshoreError(error)) return error;
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const detail = [error instanceof Error ? error.message : String(error), cause?.code ?? cause?.message]
      .filter((part) => typeof part === 'string' && part !== '')
      .join(': ');
    return new LongshoreError('SERVER_UNREACHABLE', `Cannot reach the server at ${this.url} (${call.path}): ${detail}`);
  }
}

/** The body as text, up to `limit` bytes; the rest is not read. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  const decoder = new TextDecoder();
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join('') + decoder.decode();
}
