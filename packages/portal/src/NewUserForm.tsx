import { useState, type FormEvent } from 'react';
import type { LongshoreClient, Team } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';
import { NameChoices } from './NameChoices.js';
import { useSubmission } from './useSubmission.js';

/** A new user who signs in with a password, in the teams ticked (their roles are what the user may do). */
export function NewUserForm(props: { client: LongshoreClient; teams: Team[]; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [teams, setTeams] = useState<string[]>([]);
  const { busy, error, status, submit: run } = useSubmission();

  const submit = (event: FormEvent) =>
    run(event, async () => {
      const made = await props.client.users.create({
        name: name.trim(),
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
        password,
        teams,
      });
      // A new form for the next one: the password typed must not stay on the page.
      setName('');
      setDisplayName('');
      setPassword('');
      setTeams([]);
      props.onCreated();
      return `User ${made.name} created.`;
    });

  return (
    <section className="card" aria-labelledby="new-user-heading">
      <h2 id="new-user-heading">New user</h2>
      <form className="directory-form" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor="new-user-name">User name</label>
          <input id="new-user-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="new-user-display-name">Display name</label>
          <input
            id="new-user-display-name"
            value={displayName}
            placeholder="the user name when empty"
            onChange={(e) => setDisplayName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="new-user-password">Password</label>
          <input
            id="new-user-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </div>
        <NameChoices legend="Teams" names={props.teams.map((t) => t.name)} chosen={teams} onChange={setTeams} />
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            Create user
          </button>
          <span role="status">{status}</span>
        </div>
        <ErrorMessage message={error} />
      </form>
    </section>
  );
}
