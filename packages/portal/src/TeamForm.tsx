import { useId, useState, type FormEvent } from 'react';
import type { LongshoreClient, Team, TeamRoleGrant } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';
import { NameChoices } from './NameChoices.js';
import type { Directory } from './UsersPage.js';

/** A role as the form holds it: no project (or environment) ticked is every one. */
interface GrantDraft {
  key: number;
  role: string;
  projects: string[];
  environments: string[];
}

let drafts = 0;
/** A new role starts unchosen: the first in the list is Administrator, too much to give by default. */
const draftOf = (grant: Team['roles'][number] | undefined): GrantDraft => ({
  key: ++drafts,
  role: grant?.role ?? '',
  projects: grant?.projects ?? [],
  environments: grant?.environments ?? [],
});
const grantOf = (d: GrantDraft): TeamRoleGrant => ({
  role: d.role,
  projects: d.projects.length ? d.projects : null,
  environments: d.environments.length ? d.environments : null,
});

/**
 * A new team, or one to change (`team`): its name, members and roles, each role for every
 * project and environment or only for those ticked. Saved as a whole, all or nothing.
 */
export function TeamForm(props: {
  client: LongshoreClient;
  directory: Directory;
  team: Team | undefined;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { client, directory, team } = props;
  const id = useId();
  const [name, setName] = useState(team?.name ?? '');
  const [members, setMembers] = useState<string[]>(team?.members ?? []);
  const [grants, setGrants] = useState<GrantDraft[]>(() => team?.roles.map((g) => draftOf(g)) ?? []);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const heading = team ? `Edit team ${team.name}` : 'New team';

  const changeGrant = (key: number, change: Partial<GrantDraft>) =>
    setGrants((all) => all.map((g) => (g.key === key ? { ...g, ...change } : g)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const input = { name: name.trim(), members, roles: grants.map(grantOf) };
    try {
      await (team ? client.teams.update(team.id, input) : client.teams.create(input));
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{heading}</h2>
      <form className="directory-form" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor={`${id}-name`}>Team name</label>
          {/* Opened from a team's Edit button further up: the focus follows to the form. */}
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            autoFocus={team !== undefined}
          />
        </div>
        <NameChoices
          legend="Members"
          names={directory.users.map((u) => u.name)}
          chosen={members}
          onChange={setMembers}
        />
        {grants.map((grant, i) => (
          <fieldset key={grant.key} className="grant">
            <legend>Role {i + 1}</legend>
            <div className="field">
              <label htmlFor={`${id}-${grant.key}-role`}>Role {i + 1}</label>
              <select
                id={`${id}-${grant.key}-role`}
                value={grant.role}
                onChange={(e) => changeGrant(grant.key, { role: e.target.value })}
                required
              >
                <option value="" disabled>
                  Choose a role
                </option>
                {directory.catalogue.roles.map((r) => (
                  <option key={r.id} value={r.name}>
                    {r.name}
                  </option>
                ))}
              </select>
            </div>
            <NameChoices
              legend={`Role ${i + 1} projects`}
              names={directory.projects}
              chosen={grant.projects}
              onChange={(projects) => changeGrant(grant.key, { projects })}
              hint="None ticked: every project, those made later too."
            />
            <NameChoices
              legend={`Role ${i + 1} environments`}
              names={directory.environments}
              chosen={grant.environments}
              onChange={(environments) => changeGrant(grant.key, { environments })}
              hint="None ticked: every environment."
            />
            <button type="button" onClick={() => setGrants((all) => all.filter((g) => g.key !== grant.key))}>
              Remove role {i + 1}
            </button>
          </fieldset>
        ))}
        <div className="form-actions">
          <button type="button" onClick={() => setGrants((all) => [...all, draftOf(undefined)])}>
            Add a role
          </button>
          <button type="submit" disabled={busy}>
            {team ? 'Save team' : 'Create team'}
          </button>
          {team && (
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          )}
        </div>
        <ErrorMessage message={error} />
      </form>
    </section>
  );
}
