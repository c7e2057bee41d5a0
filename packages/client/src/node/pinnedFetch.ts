import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { LongshoreError } from '@longshore/protocol';
import { ServerTransport, type ServerTransportOptions } from './serverTransport.js';

/** A `fetch` bound to one Longshore server, whose HTTPS certificate it checks by ServerTrust's rules. */
export interface PinnedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The certificate the server presented, once a connection to it was trusted (HTTPS only). */
  readonly serverCertificate: X509Certificate | undefined;
  /** Ends the kept-alive connections. */
  close(): void;
}

/** Statuses whose answer has no body: a Response refuses one. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A fetch for LongshoreClient in Node that trusts the server by its pinned thumbprint (or a CA
 * given as PEM), over ServerTransport: the global fetch cannot be given a certificate check. It
 * reaches only the server it was made for, since the pin is that server's identity; other URLs
 * reject with CONFIG_INVALID before anything is sent.
 */
export function pinnedFetch(options: ServerTransportOptions): PinnedFetch {
  const transport = new ServerTransport(options);
  const base = options.serverUrl.replace(/\/+$/, '');
  const call = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const path = pathOnServer(base, request.url);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
    const response = await transport.send({
      method: request.method,
      path,
      headers: Object.fromEntries(request.headers),
      ...(body ? { body } : {}),
      signal: request.signal,
    });
    return toResponse(response);
  };
  return Object.defineProperties(call, {
    serverCertificate: { get: () => transport.serverCertificate },
    close: { value: () => transport.close() },
  }) as PinnedFetch;
}

function pathOnServer(base: string, url: string): string {
  if (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`)) return url.slice(base.length);
  throw new LongshoreError(
    'CONFIG_INVALID',
    `This fetch is pinned to the server at ${base} and does not reach ${url}: make another for that server`,
  );
}

function toResponse(incoming: IncomingMessage): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  const init = { status, statusText: incoming.statusMessage ?? '', headers };
  if (NULL_BODY_STATUSES.has(status)) {
    incoming.resume();
    return new Response(null, init);
  }
  return new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, init);
}
