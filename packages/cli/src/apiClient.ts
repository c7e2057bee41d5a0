import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { LONGSHORE_VERSION, LongshoreError } from '@longshore/protocol';
import { ServerTransport } from '@longshore/worker/server-transport';

export interface ClientOptions {
  url: string;
  apiKey: string;
  /** Pins an HTTPS server's certificate; the system's CAs decide when absent. */
  serverThumbprint?: string;
  /** PEM of a certificate to trust as well: a local server's own. */
  caPem?: string;
  timeoutMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Where a client verb finds the server, its certificate pin and its key: flags, then
 * LONGSHORE_URL / LONGSHORE_SERVER_THUMBPRINT / LONGSHORE_API_KEY, then what a local server
 * wrote into its data directory ($LONGSHORE_DATA or ./.longshore): its admin key and, for a
 * loopback URL, its self-signed certificate.
 */
export function clientOptionsFromEnv(flags: {
  url?: string;
  apiKey?: string;
  serverThumbprint?: string;
}): ClientOptions {
  const url = (flags.url ?? process.env.LONGSHORE_URL ?? 'https://127.0.0.1:8080').replace(/\/+$/, '');
  const dataDir = process.env.LONGSHORE_DATA ?? '.longshore';
  const serverThumbprint = flags.serverThumbprint ?? (process.env.LONGSHORE_SERVER_THUMBPRINT || undefined);
  if (serverThumbprint !== undefined && !url.startsWith('https://')) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `--server-thumbprint (LONGSHORE_SERVER_THUMBPRINT) pins an HTTPS server's certificate, but ${url} is not HTTPS: use the server's https:// URL, or drop the thumbprint`,
    );
  }
  let apiKey = flags.apiKey ?? process.env.LONGSHORE_API_KEY;
  if (!apiKey) apiKey = readIfThere(join(dataDir, 'admin-api-key'))?.trim();
  if (!apiKey) {
    throw new LongshoreError(
      'UNAUTHENTICATED',
      'No API key: set LONGSHORE_API_KEY, pass --api-key, or run next to a server data directory (.longshore/admin-api-key)',
    );
  }
  const local =
    serverThumbprint === undefined && URL.canParse(url) && LOOPBACK.has(new URL(url).hostname)
      ? readIfThere(join(dataDir, 'tls', 'server.crt'))
      : undefined;
  return { url, apiKey, ...(serverThumbprint ? { serverThumbprint } : {}), ...(local ? { caPem: local } : {}) };
}

function readIfThere(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

export class ApiClient {
  readonly url: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #transport: ServerTransport;

  constructor(options: ClientOptions) {
    this.url = options.url;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#transport = new ServerTransport({
      serverUrl: options.url,
      userAgent: `longshore-cli/${LONGSHORE_VERSION}`,
      ...(options.serverThumbprint ? { thumbprint: options.serverThumbprint } : {}),
      ...(options.caPem ? { caPem: options.caPem } : {}),
    });
  }

  get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.#apiKey}` };
  }

  /** The answer's JSON; a signal replaces the time limit (a caller that follows a stream ends it itself). */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    init: { contentType?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const headers = {
      ...this.headers,
      ...(body !== undefined ? { 'content-type': init.contentType ?? 'application/json' } : {}),
    };
    return (await this.#transport.json({
      method,
      path,
      headers,
      ...(body !== undefined ? { body: body instanceof Uint8Array ? body : JSON.stringify(body) } : {}),
      ...(init.signal ? { signal: init.signal } : { timeoutMs: this.#timeoutMs }),
    })) as T;
  }

  /** A streamed answer with a 2xx status (the task log's server-sent events); no time limit but the signal. */
  stream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.#transport.ok({
      method: 'GET',
      path,
      headers: { ...this.headers, ...headers },
      ...(signal ? { signal } : {}),
    });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
}
