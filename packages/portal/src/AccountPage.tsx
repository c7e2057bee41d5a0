import type { LongshoreClient, UserGrant } from '@longshore/client';
import { useAccess } from './Access.js';
import { ApiKeyList } from './ApiKeyList.js';
import { DataTable, type Column } from './DataTable.js';
import './formLayout.css';
import './UsersPage.css';

const everywhere = (names: string[] | null, all: string) => names?.join(', ') ?? <span className="none">{all}</span>;

const GRANT_COLUMNS: Column<UserGrant>[] = [
  { header: 'Role', cell: (g) => g.role },
  { header: 'Through team', cell: (g) => g.team },
  { header: 'Projects', cell: (g) => everywhere(g.projects, 'every project') },
  { header: 'Environments', cell: (g) => everywhere(g.environments, 'every environment') },
  { header: 'Permissions', cell: (g) => g.permissions.join(', ') },
];

/** The signed-in user's own page (`/account`): who they are, what their roles let them do where, their API keys. */
export function AccountPage({ client }: { client: LongshoreClient }) {
  const { me } = useAccess();
  return (
    <>
      <h1>{me.displayName}</h1>
      <p>
        Signed in as <strong>{me.name}</strong> with {me.via === 'session' ? 'a password' : 'an API key'}.
      </p>
      <section aria-labelledby="grants-heading">
        <h2 id="grants-heading">My roles</h2>
        {me.grants.length === 0 ? (
          <p className="empty">No roles: an administrator adds you to a team that holds some.</p>
        ) : (
          <DataTable
            labelledBy="grants-heading"
            columns={GRANT_COLUMNS}
            rows={me.grants}
            rowKey={(g) => `${g.team}/${g.role}/${g.projects?.join()}/${g.environments?.join()}`}
          />
        )}
      </section>
      <ApiKeyList client={client} />
    </>
  );
}
