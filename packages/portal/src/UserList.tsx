import { useState } from 'react';
import type { LongshoreClient, User, UserChange } from '@longshore/client';
import { useAccess } from './Access.js';
import { DataTable, type Column } from './DataTable.js';
import { ErrorMessage } from './ErrorMessage.js';

const when = (iso: string | null, none: string) =>
  iso ? <time dateTime={iso}>{new Date(iso).toLocaleString()}</time> : <span className="none">{none}</span>;

function stateOf(user: User) {
  if (user.disabled) return <span className="user-disabled">disabled</span>;
  if (user.lockedUntil) return <span className="user-locked">locked until {when(user.lockedUntil, '')}</span>;
  return 'active';
}

/**
 * The users: name, display name, teams, whether disabled or locked out, last sign-in; disable
 * (their sessions end at once), enable, and unlock after failed sign-ins. The signed-in user is
 * not offered disabling themselves.
 */
export function UserList(props: { client: LongshoreClient; users: User[]; onChanged: () => void }) {
  const { client, onChanged } = props;
  const { me } = useAccess();
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState('');

  const change = async (user: User, what: UserChange, done: string) => {
    setError(undefined);
    setStatus('');
    try {
      await client.users.update(user.name, what);
      setStatus(done);
      onChanged();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const columns: Column<User>[] = [
    { header: 'User', cell: (u) => u.name },
    { header: 'Display name', cell: (u) => u.displayName },
    { header: 'Teams', cell: (u) => u.teams.join(', ') || <span className="none">none</span> },
    { header: 'State', cell: stateOf },
    { header: 'Last sign-in', cell: (u) => when(u.lastSignInAt, 'never') },
    {
      header: 'Change',
      cell: (u) => (
        <span className="row-actions">
          {u.id !== me.id &&
            (u.disabled ? (
              <button type="button" onClick={() => void change(u, { disabled: false }, `${u.name} enabled.`)}>
                Enable {u.name}
              </button>
            ) : (
              <button type="button" onClick={() => void change(u, { disabled: true }, `${u.name} disabled.`)}>
                Disable {u.name}
              </button>
            ))}
          {u.lockedUntil && (
            <button type="button" onClick={() => void change(u, { unlock: true }, `${u.name} unlocked.`)}>
              Unlock {u.name}
            </button>
          )}
        </span>
      ),
    },
  ];

  return (
    <section aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      <DataTable labelledBy="users-heading" columns={columns} rows={props.users} rowKey={(u) => u.id} />
      <ErrorMessage message={error} />
      <p role="status">{status}</p>
    </section>
  );
}
