import { useState, type FormEvent } from 'react';
import { isErrorCode, type LongshoreClient } from '@longshore/client';
import { clientFor } from './session.js';
import { SsoSignIn } from './SsoSignIn.js';

/** Sign-in with an API key: checked against the server before it is kept. */
export function SignIn({ onSignedIn }: { onSignedIn: (apiKey: string, client: LongshoreClient) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const client = clientFor(apiKey.trim());
    try {
      await client.serverInfo();
      onSignedIn(apiKey.trim(), client);
    } catch (err) {
      setError(
        isErrorCode(err, 'UNAUTHENTICATED')
          ? 'The server does not know this API key. The first key is in <data dir>/admin-api-key on the server; `longshore api-keys create` makes more.'
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>Longshore</h1>
      <SsoSignIn />
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'sign-in-error' : undefined}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          value={apiKey}
          onChange={(e) => setApiKey(e.target.value)}
          required
        />
        <button type="submit" disabled={busy || apiKey.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="sign-in-error" role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
