import { useState } from 'react';
import type { LongshoreClient } from '@longshore/client';
import { Dashboard } from './Dashboard.js';
import { usePage } from './navigation.js';
import { InfrastructurePage } from './InfrastructurePage.js';
import { Link } from './Link.js';
import { ProjectPage } from './ProjectPage.js';
import { ProjectsPage } from './ProjectsPage.js';
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
        <nav aria-label="Main">
          <Link to="/">Dashboard</Link> <Link to="/projects">Projects</Link>{' '}
          <Link to="/infrastructure">Infrastructure</Link>
        </nav>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {page.kind === 'task' ? (
          <TaskPage client={client} taskId={page.taskId} onUnauthenticated={signOut} />
        ) : page.kind === 'projects' ? (
          <ProjectsPage client={client} onUnauthenticated={signOut} />
        ) : page.kind === 'project' ? (
          <ProjectPage key={page.name} client={client} name={page.name} onUnauthenticated={signOut} />
        ) : page.kind === 'infrastructure' ? (
          <InfrastructurePage client={client} />
        ) : (
          <Dashboard client={client} onUnauthenticated={signOut} />
        )}
      </main>
    </>
  );
}
