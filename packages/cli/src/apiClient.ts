import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LongshoreError, errorFromBody } from '@longshore/protocol';

export interface ClientOptions {
  url: string;
  apiKey: string;
  timeoutMs?: number;
}

/**
 * Where a client verb finds the server and its key: flags, then LONGSHORE_URL / LONGSHORE_API_KEY,
 * then the admin key a local server wrote into its data directory.
 */
export function clientOptionsFromEnv(flags: { url?: string; apiKey?: string }): ClientOptions {
  const url = flags.url ?? process.env.LONGSHORE_URL ?? 'http://127.0.0.1:8080';
  let apiKey = flags.apiKey ?? process.env.LONGSHORE_API_KEY;
  if (!apiKey) {
    const file = join(process.env.LONGSHORE_DATA ?? '.longshore', 'admin-api-key');
    if (existsSync(file)) apiKey = readFileSync(file, 'utf8').trim();
  }
  if (!apiKey) {
    throw new LongshoreError('UNAUTHENTICATED', 'No API key: set LONGSHORE_API_KEY, pass --api-key, or run next to a server data directory (.longshore/admin-api-key)');
  }
  return { url: url.replace(/\/+$/, ''), apiKey };
}

export class ApiClient {
  readonly url: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.url = options.url;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.#apiKey}` };
  }

  async request<T>(method: string, path: string, body?: unknown, init: { contentType?: string; signal?: AbortSignal } = {}): Promise<T> {
    const isRaw = body instanceof Uint8Array;
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { ...this.headers, ...(body !== undefined ? { 'content-type': init.contentType ?? 'application/json' } : {}) },
        ...(body !== undefined ? { body: isRaw ? body : JSON.stringify(body) } : {}),
        signal: init.signal ?? AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      throw new LongshoreError('SERVER_UNREACHABLE', `Cannot reach the Longshore server at ${this.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!res.ok) throw errorFromBody(res.status, parsed);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
