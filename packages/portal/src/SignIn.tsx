import { useState } from 'react';
import { isErrorCode, type LongshoreClient } from '@longshore/client';
import { clientFor } from './session.js';
import { SsoSignIn } from './SsoSignIn.js';
import { useSubmission } from './useSubmission.js';

type SignedIn = (credential: string, client: LongshoreClient) => void;

/**
 * Sign-in with a user name and password (a session token is kept), or with an API key; either is
 * checked by the server before it is kept.
 */
export function SignIn({ onSignedIn }: { onSignedIn: SignedIn }) {
  const [withKey, setWithKey] = useState(false);
  return (
    <main className="sign-in">
      <h1>Longshore</h1>
      <SsoSignIn />
      {withKey ? <ApiKeySignIn onSignedIn={onSignedIn} /> : <PasswordSignIn onSignedIn={onSignedIn} />}
      <button type="button" className="sign-in-switch" onClick={() => setWithKey(!withKey)}>
        {withKey ? 'Use a user name and password instead' : 'Use an API key instead'}
      </button>
    </main>
  );
}

function PasswordSignIn({ onSignedIn }: { onSignedIn: SignedIn }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, submit: attempt } = useSubmission();
  const signIn = async () => {
    const { token } = await clientFor().sessions.signIn(name.trim(), password);
    onSignedIn(token, clientFor(token));
  };
  // A refusal shows the server's own message: a wrong name or password, a lockout and until when, a disabled user.
  return (
    <form onSubmit={(e) => void attempt(e, signIn)} aria-describedby={error ? 'sign-in-error' : undefined}>
      <label htmlFor="user-name">User name</label>
      <input id="user-name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <button type="submit" disabled={busy || name.trim() === '' || password === ''}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      <SignInError error={error} />
    </form>
  );
}

function ApiKeySignIn({ onSignedIn }: { onSignedIn: SignedIn }) {
  const [apiKey, setApiKey] = useState('');
  const { error, busy, submit: attempt } = useSubmission();
  const signIn = async () => {
    const client = clientFor(apiKey.trim());
    await client.serverInfo();
    onSignedIn(apiKey.trim(), client);
  };
  const message = (err: unknown) =>
    isErrorCode(err, 'UNAUTHENTICATED')
      ? 'The server does not know this API key. The first key is in <data dir>/admin-api-key on the server; `longshore api-keys create` makes more.'
      : (err as Error).message;
  return (
    <form onSubmit={(e) => void attempt(e, signIn, message)} aria-describedby={error ? 'sign-in-error' : undefined}>
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
      <SignInError error={error} />
    </form>
  );
}

function SignInError({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p id="sign-in-error" role="alert" className="error">
      {error}
    </p>
  );
}
