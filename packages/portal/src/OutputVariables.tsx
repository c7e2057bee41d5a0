import type { Task } from '@longshore/client';
import { DataTable } from './DataTable.js';

interface Row {
  key: string;
  step: string;
  target: string | null;
  name: string;
  value: string | null;
}

/** The output variables the task's scripts set, by step and target; a sensitive one shows only that it is set. */
export function OutputVariables({ task }: { task: Task }) {
  const rows: Row[] = task.steps.flatMap((step) =>
    step.operations.flatMap((op) =>
      op.outputVariables.map((v) => ({
        key: `${op.id}/${v.name}`,
        step: step.name,
        target: op.target,
        name: v.name,
        value: v.sensitive ? null : v.value,
      })),
    ),
  );
  if (rows.length === 0) return null;
  return (
    <section aria-labelledby="output-variables-heading">
      <h2 id="output-variables-heading">Output variables</h2>
      <DataTable
        labelledBy="output-variables-heading"
        rows={rows}
        rowKey={(r) => r.key}
        columns={[
          { header: 'Name', cell: (r) => r.name },
          { header: 'Step', cell: (r) => `${r.step}${r.target ? ` · ${r.target}` : ''}` },
          { header: 'Value', cell: (r) => (r.value === null ? <em>sensitive (set)</em> : <code>{r.value}</code>) },
        ]}
      />
    </section>
  );
}
