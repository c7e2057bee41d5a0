import { useState } from 'react';
import type { LongshoreClient } from '@longshore/client';
import { Dashboard } from './Dashboard.js';
import { usePage } from './navigation.js';
import { TaskPage } from './TaskPage.js';
import { SignIn } from './SignIn.js';
import { clientFor, storeApiKey, storedApiKey } from './session.js';

export function App() {
  const page = usePage();
  const [client, setClient] = useState<LongshoreClient | undefined>(() => {
    const key = storedApiKey();
    return key === undefined ? undefined : clientFor(key);
  });
  const signOut = () => {
    storeApiKey(undefined);
    setClient(undefined);
  };
  if (!client)
    return (
      <SignIn
        onSignedIn={(key, signedIn) => {
          storeApiKey(key);
          setClient(signedIn);
        }}
      />
    );
  return (
    <>
      <header className="top">
        <span className="brand">Longshore</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {page.kind === 'task' ? (
          <TaskPage client={client} taskId={page.taskId} onUnauthenticated={signOut} />
        ) : (
          <Dashboard client={client} onUnauthenticated={signOut} />
        )}
      </main>
    </>
  );
}
