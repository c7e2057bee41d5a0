import { LongshoreClient } from '@longshore/client';

/**
 * The API key, or a password sign-in's session token (used the same way), lives in session
 * storage: gone with the tab, never in a URL (where it would reach the history, logs and Referer
 * headers), and never in local storage, which outlives the session.
 */
const KEY = 'longshore.apiKey';

/** The server is the page's own origin: the portal is served by the server it talks to. No key: it can only sign in. */
export function clientFor(apiKey?: string): LongshoreClient {
  return new LongshoreClient({ url: window.location.origin, ...(apiKey !== undefined && { apiKey }) });
}

export function storedApiKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function storeApiKey(apiKey: string | undefined): void {
  if (apiKey === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, apiKey);
}
