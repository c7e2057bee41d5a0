import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LongshoreClient } from '@longshore/client';
import { pinnedFetch } from '@longshore/client/node';
import { LONGSHORE_VERSION, LongshoreError } from '@longshore/protocol';

export interface ClientOptions {
  url: string;
  apiKey: string;
  /** Pins an HTTPS server's certificate; the system's CAs decide when absent. */
  serverThumbprint?: string;
  /** PEM of a certificate to trust as well: a local server's own. */
  caPem?: string;
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

/** A client of the server the options name, over the Node transport that pins its certificate. */
export function createApiClient(options: ClientOptions): LongshoreClient {
  const fetch = pinnedFetch({
    serverUrl: options.url,
    userAgent: `longshore-cli/${LONGSHORE_VERSION}`,
    ...(options.serverThumbprint ? { thumbprint: options.serverThumbprint } : {}),
    ...(options.caPem ? { caPem: options.caPem } : {}),
  });
  return new LongshoreClient({ url: options.url, apiKey: options.apiKey, fetch });
}
