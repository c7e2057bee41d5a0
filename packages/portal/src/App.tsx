import { useCallback, useEffect, useState } from 'react';
import { isErrorCode, type LongshoreClient } from '@longshore/client';
import { AccessProvider, Permitted } from './Access.js';
import { accessOf, type Access } from './access.js';
import { AccountPage } from './AccountPage.js';
import { AuditPage } from './AuditPage.js';
import { Dashboard } from './Dashboard.js';
import { ErrorMessage } from './ErrorMessage.js';
import { usePage, type Page } from './navigation.js';
import { InfrastructurePage } from './InfrastructurePage.js';
import { ProjectPage } from './ProjectPage.js';
import { ProjectsPage } from './ProjectsPage.js';
import { SiteHeader } from './SiteHeader.js';
import { TaskPage } from './TaskPage.js';
import { SignIn } from './SignIn.js';
import { UsersPage } from './UsersPage.js';
import { clientFor, storeApiKey, storedApiKey } from './session.js';

export function App() {
  const page = usePage();
  const [client, setClient] = useState<LongshoreClient | undefined>(() => {
    const key = storedApiKey();
    return key === undefined ? undefined : clientFor(key);
  });
  const [access, setAccess] = useState<Access | undefined>();
  const [error, setError] = useState<string | undefined>();
  const signedOut = useCallback(() => {
    storeApiKey(undefined);
    setClient(undefined);
    setAccess(undefined);
  }, []);

  // Who signed in and what they may do: read once per sign-in, before any page shows.
  useEffect(() => {
    if (!client) return;
    const abort = new AbortController();
    setError(undefined);
    client.me(abort.signal).then(
      (me) => setAccess(accessOf(me)),
      (err: unknown) => {
        if (abort.signal.aborted) return;
        if (isErrorCode(err, 'UNAUTHENTICATED')) signedOut();
        else setError((err as Error).message);
      },
    );
    return () => abort.abort();
  }, [client, signedOut]);

  if (!client)
    return (
      <SignIn
        onSignedIn={(key, signedIn) => {
          storeApiKey(key);
          setClient(signedIn);
        }}
      />
    );
  if (!access)
    return (
      <main>
        {error ? (
          <>
            <ErrorMessage message={error} />
            <button type="button" onClick={signedOut}>
              Sign in again
            </button>
          </>
        ) : (
          <p aria-busy="true">Signing in…</p>
        )}
      </main>
    );
  // A session ends on the server too; an API key stays valid until it is revoked.
  const signOut = async () => {
    if (access.me.via === 'session') await client.sessions.signOut().catch(() => undefined);
    signedOut();
  };
  return (
    <AccessProvider value={access}>
      <SiteHeader onSignOut={() => void signOut()} />
      <main>
        <PageView page={page} client={client} onUnauthenticated={signedOut} />
      </main>
    </AccessProvider>
  );
}

function PageView(props: { page: Page; client: LongshoreClient; onUnauthenticated: () => void }) {
  const { page, client, onUnauthenticated } = props;
  switch (page.kind) {
    case 'task':
      return <TaskPage client={client} taskId={page.taskId} onUnauthenticated={onUnauthenticated} />;
    case 'projects':
      return <ProjectsPage client={client} onUnauthenticated={onUnauthenticated} />;
    case 'project':
      return <ProjectPage key={page.name} client={client} name={page.name} onUnauthenticated={onUnauthenticated} />;
    case 'infrastructure':
      return <InfrastructurePage client={client} />;
    case 'audit':
      return (
        <Permitted title="Audit log" permission="audit:view">
          <AuditPage client={client} />
        </Permitted>
      );
    case 'users':
      return (
        <Permitted title="Users and teams" permission="user:manage">
          <UsersPage client={client} />
        </Permitted>
      );
    case 'account':
      return <AccountPage client={client} />;
    case 'dashboard':
      return <Dashboard client={client} onUnauthenticated={onUnauthenticated} />;
  }
}
