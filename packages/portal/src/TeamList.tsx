import type { Team } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';

/** Where a team holds a role: every project and environment, or the ones it names. */
export function grantText(grant: Team['roles'][number]): string {
  const where = [
    grant.projects ? `projects ${grant.projects.join(', ')}` : 'every project',
    grant.environments ? `environments ${grant.environments.join(', ')}` : 'every environment',
  ];
  return `${grant.role} in ${where.join(', ')}`;
}

/** The teams with their members and the roles they hold, each to be edited in the form below. */
export function TeamList(props: { teams: Team[]; onEdit: (team: Team) => void }) {
  const columns: Column<Team>[] = [
    { header: 'Team', cell: (t) => t.name },
    { header: 'Members', cell: (t) => t.members.join(', ') || <span className="none">nobody</span> },
    {
      header: 'Roles',
      cell: (t) =>
        t.roles.length === 0 ? (
          <span className="none">none</span>
        ) : (
          <ul className="grants">
            {t.roles.map((g, i) => (
              <li key={i}>{grantText(g)}</li>
            ))}
          </ul>
        ),
    },
    {
      header: 'Change',
      cell: (t) => (
        <button type="button" onClick={() => props.onEdit(t)}>
          Edit {t.name}
        </button>
      ),
    },
  ];
  return (
    <section aria-labelledby="teams-heading">
      <h2 id="teams-heading">Teams</h2>
      {props.teams.length === 0 ? (
        <p className="empty">No teams yet: make one below.</p>
      ) : (
        <DataTable labelledBy="teams-heading" columns={columns} rows={props.teams} rowKey={(t) => t.id} />
      )}
    </section>
  );
}
