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

let signInError: string | undefined;

/**
 * What a single sign-on left in the address: the server sends the browser back with the session
 * in the fragment (`#session=...`), which browsers never send to a server, or with why it failed
 * (`#signin-error=...`). The session is kept like an API key and the fragment taken out of the
 * address (and so out of the history) before the app first reads the stored key.
 */
export function adoptSignInFromAddress(): void {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const session = fragment.get('session');
  const error = fragment.get('signin-error');
  if (session === null && error === null) return;
  if (session) storeApiKey(session);
  signInError = error ?? undefined;
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
}

/** Why the last single sign-on failed, as the server said it; undefined when it did not. */
export function singleSignOnError(): string | undefined {
  return signInError;
}
