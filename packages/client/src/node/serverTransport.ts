import type { X509Certificate } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LongshoreError, errorFromBody, isLongshoreError } from '@longshore/protocol';
import { TrustingAgent, type ServerTrust } from './serverTrust.js';

export interface ServerTransportOptions extends ServerTrust {
  serverUrl: string;
  userAgent: string;
}

export interface ServerRequest {
  method: string;
  /** From the server URL on; the server may live under a path. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Limit for the whole exchange, the answer's body included; none when absent. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Enough of an error body to read its code and message; a proxy's page may be much longer. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Requests to the Longshore server over node:http(s) with a keep-alive agent. Not the global
 * fetch: on Node 20 fetch cannot be given a CA or a certificate check, and a self-signed server
 * is trusted by its pinned thumbprint (see TrustingAgent). Requests reject with LongshoreErrors:
 * SERVER_UNREACHABLE, TIMEOUT, SERVER_CERTIFICATE_MISMATCH or _UNTRUSTED, the server's own
 * error (from ok() and json()), or the caller's abort reason.
 */
export class ServerTransport {
  readonly serverUrl: string;
  private readonly base: string;
  private readonly agent: HttpAgent | TrustingAgent;
  private readonly https: boolean;

  constructor(private readonly options: ServerTransportOptions) {
    this.serverUrl = options.serverUrl;
    this.base = options.serverUrl.replace(/\/+$/, '');
    const protocol = URL.canParse(options.serverUrl) ? new URL(options.serverUrl).protocol : undefined;
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new LongshoreError(
        'CONFIG_INVALID',
        `The server URL '${options.serverUrl}' is not an http:// or https:// URL (e.g. https://longshore.example.com:8080)`,
      );
    }
    this.https = protocol === 'https:';
    this.agent = this.https ? new TrustingAgent(options.serverUrl, options) : new HttpAgent({ keepAlive: true });
  }

  /** The certificate the server presented, once a connection to it was trusted (HTTPS only). */
  get serverCertificate(): X509Certificate | undefined {
    return this.agent instanceof TrustingAgent ? this.agent.serverCertificate : undefined;
  }

  /** The answer whatever its status; its body must be read or destroyed. */
  send(request: ServerRequest): Promise<IncomingMessage> {
    const { path, signal } = request;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    return new Promise((resolve, reject) => {
      const outgoing = (this.https ? httpsRequest : httpRequest)(
        `${this.base}${path.startsWith('/') ? '' : '/'}${path}`,
        { method: request.method, headers, agent: this.agent },
      );
      let response: IncomingMessage | undefined;
      // Both halves: an abort after the answer began must also end the reading of its body.
      const abort = (reason: Error): void => {
        outgoing.destroy(reason);
        response?.destroy(reason);
      };
      const timer =
        request.timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                abort(
                  new LongshoreError(
                    'TIMEOUT',
                    `The server at ${this.serverUrl} did not answer ${path} within ${request.timeoutMs} ms`,
                  ),
                ),
              request.timeoutMs,
            );
      const onAbort = (): void => abort(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      outgoing.on('error', (error) => {
        settle();
        reject(this.transportError(error, path, signal));
      });
      outgoing.once('response', (incoming) => {
        response = incoming;
        // Whoever reads the body gets the abort's error too; this only keeps an unread one from crashing the process.
        incoming.on('error', () => {});
        incoming.once('close', settle);
        resolve(incoming);
      });
      outgoing.end(request.body);
    });
  }

  /** The answer if its status is 2xx, else the server's error (its JSON body as a LongshoreError). */
  async ok(request: ServerRequest): Promise<IncomingMessage> {
    const response = await this.send(request);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    const text = (await this.read(response, request, MAX_ERROR_BODY)).toString('utf8');
    let body: unknown = text.slice(0, 500);
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): errorFromBody keeps the text.
    }
    throw errorFromBody(status, body);
  }

  /** ok(), then its JSON body; an empty body is undefined. */
  async json(request: ServerRequest): Promise<unknown> {
    const response = await this.ok(request);
    const text = (await this.read(response, request)).toString('utf8');
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new LongshoreError(
        'INTERNAL',
        `The answer of the server at ${this.serverUrl} to ${request.path} is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /** Ends the kept-alive connections, so a process that is done can exit. */
  close(): void {
    this.agent.destroy();
  }

  /** The body, up to `limit` bytes (the rest is read and dropped, so the connection can be reused). */
  private async read(response: IncomingMessage, request: ServerRequest, limit = Infinity): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response) {
        if (size >= limit) continue;
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (error) {
      throw this.transportError(error as Error, request.path, request.signal);
    }
    return Buffer.concat(chunks);
  }

  private transportError(error: Error, path: string, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return signal.reason as Error;
    if (isLongshoreError(error)) return error;
    const code = (error as NodeJS.ErrnoException).code;
    const detail = `${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`;
    return new LongshoreError(
      'SERVER_UNREACHABLE',
      `Cannot reach the server at ${this.serverUrl} (${path}): ${detail}`,
    );
  }
}
