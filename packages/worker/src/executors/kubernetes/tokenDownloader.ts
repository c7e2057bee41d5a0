import type { Readable } from 'node:stream';
import { ServerTransport } from '@longshore/client/node';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import type { AgentChannel } from '../../serverClient.js';

export interface TokenDownloaderOptions {
  serverUrl: string;
  /** A package token (or any bearer credential the server takes on the content route). */
  token: string;
  /**
   * PEM of the CA that signed the server's certificate, for a server the system's CAs do not
   * know; a self-signed server certificate here is trusted under any host name (see ServerTrust).
   */
  caPem?: string;
}

/**
 * Package downloads with a bearer token, for a script pod's init container: it trusts a server
 * with a self-signed certificate from the CA file in its Secret. Errors are the channel's: the
 * server's own (UNAUTHENTICATED, FORBIDDEN ...), SERVER_UNREACHABLE or a certificate refusal.
 */
export class TokenDownloader implements Pick<AgentChannel, 'downloadPackage'> {
  private readonly transport: ServerTransport;

  constructor(private readonly options: TokenDownloaderOptions) {
    this.transport = new ServerTransport({
      serverUrl: options.serverUrl,
      userAgent: `longshore-fetch-packages/${LONGSHORE_VERSION}`,
      ...(options.caPem ? { caPem: options.caPem } : {}),
    });
  }

  downloadPackage(downloadPath: string, signal?: AbortSignal): Promise<Readable> {
    return this.transport.ok({
      method: 'GET',
      path: downloadPath,
      headers: { authorization: `Bearer ${this.options.token}` },
      ...(signal ? { signal } : {}),
    });
  }
}
