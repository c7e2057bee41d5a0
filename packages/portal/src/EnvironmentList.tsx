import type { Environment, Target } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';

/** The environments, each with its description and the targets a deployment to it reaches. */
export function EnvironmentList(props: { environments: Environment[]; targets: Target[] }) {
  const targetsOf = (environment: Environment) =>
    props.targets.filter((t) => t.environments.includes(environment.name)).map((t) => t.name);
  const columns: Column<Environment>[] = [
    { header: 'Environment', cell: (e) => e.name },
    { header: 'Description', cell: (e) => e.description || <span className="none">none</span> },
    {
      header: 'Targets',
      cell: (e) => {
        const names = targetsOf(e);
        return names.length ? names.join(', ') : <span className="none">no targets</span>;
      },
    },
  ];
  return (
    <section aria-labelledby="environments-heading">
      <h2 id="environments-heading">Environments</h2>
      {props.environments.length === 0 ? (
        <p className="empty">
          No environments yet: list them under <code>environments:</code> in longshore.yaml and run{' '}
          <code>longshore apply -f longshore.yaml</code>.
        </p>
      ) : (
        <DataTable labelledBy="environments-heading" rows={props.environments} rowKey={(e) => e.id} columns={columns} />
      )}
    </section>
  );
}
