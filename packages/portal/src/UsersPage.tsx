import { useCallback, useEffect, useState } from 'react';
import type { LongshoreClient, RoleCatalogue, Team, User } from '@longshore/client';
import { useAccess } from './Access.js';
import { ErrorMessage } from './ErrorMessage.js';
import { NewUserForm } from './NewUserForm.js';
import { TeamForm } from './TeamForm.js';
import { TeamList } from './TeamList.js';
import { UserList } from './UserList.js';
import './formLayout.css';
import './UsersPage.css';

/** What the page shows and what its forms choose from. */
export interface Directory {
  users: User[];
  teams: Team[];
  catalogue: RoleCatalogue;
  /** Names a role can be held for. */
  projects: string[];
  environments: string[];
}

async function load(client: LongshoreClient, readsProjects: boolean, readsEnvironments: boolean, signal: AbortSignal) {
  const [users, teams, catalogue, projects, environments] = await Promise.all([
    client.users.list(signal),
    client.teams.list(signal),
    client.roles.list(signal),
    readsProjects ? client.projects.list(signal) : [],
    readsEnvironments ? client.environments.list(signal) : [],
  ]);
  const names = (list: { name: string }[]) => list.map((item) => item.name);
  return { users, teams, catalogue, projects: names(projects), environments: names(environments) };
}

/**
 * Users and teams (`/users`, user:manage): who may sign in and what they may do. Users are made,
 * disabled, enabled and unlocked here; teams made with their members and roles, each role for
 * every project and environment or some, and their roles changed later.
 */
export function UsersPage({ client }: { client: LongshoreClient }) {
  const { mayList } = useAccess();
  const readsProjects = mayList('project:view');
  const readsEnvironments = mayList('environment:view');
  const [directory, setDirectory] = useState<Directory | undefined>();
  const [editing, setEditing] = useState<Team | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [round, setRound] = useState(0);
  /** A fresh team form after each save: the new-team form starts empty again. */
  const [teamForms, setTeamForms] = useState(0);
  /** Reads everything again after a change: a team's members show on its users' rows too. */
  const reload = useCallback(() => setRound((n) => n + 1), []);

  useEffect(() => {
    const abort = new AbortController();
    load(client, readsProjects, readsEnvironments, abort.signal).then(
      (loaded) => {
        setDirectory(loaded);
        setError(undefined);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError((err as Error).message);
      },
    );
    return () => abort.abort();
  }, [client, readsProjects, readsEnvironments, round]);

  return (
    <>
      <h1>Users and teams</h1>
      <ErrorMessage message={error} />
      {!directory ? (
        !error && <p aria-busy="true">Loading…</p>
      ) : (
        <>
          <UserList client={client} users={directory.users} onChanged={reload} />
          <NewUserForm client={client} teams={directory.teams} onCreated={reload} />
          <TeamList teams={directory.teams} onEdit={setEditing} />
          <TeamForm
            key={`${editing?.id ?? 'new'}-${teamForms}`}
            client={client}
            directory={directory}
            team={editing}
            onDone={() => {
              setEditing(undefined);
              setTeamForms((n) => n + 1);
              reload();
            }}
            onCancel={() => setEditing(undefined)}
          />
        </>
      )}
    </>
  );
}
