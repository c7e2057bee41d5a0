import type { Target } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';

/** Where a target is reached: a cluster's API and namespace. Its token is never answered by the API, only whether one is stored. */
function connection(target: Target) {
  const k = target.kubernetes;
  if (!k) return <span className="none">—</span>;
  return `${k.apiUrl}, namespace ${k.namespace}${k.hasToken ? '' : ' (no token stored)'}`;
}

/** The deployment targets: type, environments and tags (steps pick targets by tag). */
export function TargetList(props: { targets: Target[] }) {
  const columns: Column<Target>[] = [
    { header: 'Target', cell: (t) => t.name },
    { header: 'Type', cell: (t) => t.type },
    { header: 'Environments', cell: (t) => t.environments.join(', ') },
    { header: 'Tags', cell: (t) => (t.tags.length ? t.tags.join(', ') : <span className="none">none</span>) },
    { header: 'Cluster', cell: connection },
  ];
  return (
    <section aria-labelledby="targets-heading">
      <h2 id="targets-heading">Targets</h2>
      {props.targets.length === 0 ? (
        <p className="empty">
          No targets yet: describe them under <code>targets:</code> in longshore.yaml (name, type, environments, tags)
          and run <code>longshore apply -f longshore.yaml</code>.
        </p>
      ) : (
        <DataTable labelledBy="targets-heading" rows={props.targets} rowKey={(t) => t.id} columns={columns} />
      )}
    </section>
  );
}
