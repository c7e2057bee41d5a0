import { useEffect, useState } from 'react';
import type { SignInMethods } from '@longshore/client';
import { clientFor, singleSignOnError } from './session.js';

/**
 * "Sign in with <provider>" when the server has single sign-on: the browser goes to the server,
 * on to the provider and back, and lands where it started with a session (session.ts reads it).
 * Shows why the last attempt failed.
 */
export function SsoSignIn() {
  const [method, setMethod] = useState<SignInMethods['singleSignOn']>(null);
  const error = singleSignOnError();

  useEffect(() => {
    const controller = new AbortController();
    // The methods need no key. If the server cannot be reached, the key form's own call says so.
    clientFor('')
      .signInMethods(controller.signal)
      .then((methods) => setMethod(methods.singleSignOn))
      .catch(() => undefined);
    return () => controller.abort();
  }, []);

  if (!method && !error) return null;
  const start = method && `${method.startUrl}?returnTo=${encodeURIComponent(window.location.pathname)}`;
  return (
    <section className="sso-sign-in" aria-label="Single sign-on">
      {start && (
        <button type="button" onClick={() => window.location.assign(start)}>
          {method.label}
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
