import { useCallback, useEffect, useState } from 'react';
import type { Environment, LongshoreClient, Target, Variable, VariableInput } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';
import { ErrorMessage } from './ErrorMessage.js';
import { VariableForm } from './VariableForm.js';

function scopeText(v: Variable): string {
  const parts = [
    v.scope.environments?.length ? `environments ${v.scope.environments.join(', ')}` : '',
    v.scope.targets?.length ? `targets ${v.scope.targets.join(', ')}` : '',
    v.scope.targetTags?.length ? `target tags ${v.scope.targetTags.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length === 0 ? 'everywhere' : parts.join('; ');
}

/** As sent back: a sensitive value left out, so that the server keeps the one it has. */
function inputOf(v: Variable): VariableInput {
  return v.sensitive
    ? { name: v.name, sensitive: true, scope: v.scope }
    : { name: v.name, value: v.value ?? '', scope: v.scope };
}

/**
 * The project's variables and their scopes; changed only by whoever may (`editable`). The API
 * replaces them all at once: each addition, edit or removal sends the whole list, sensitive values
 * left out (they stay as stored).
 */
export function VariablesEditor(props: {
  client: LongshoreClient;
  projectName: string;
  environments: Environment[];
  targets: Target[];
  editable: boolean;
}) {
  const { client, projectName, editable } = props;
  const [variables, setVariables] = useState<Variable[] | undefined>();
  const [editing, setEditing] = useState<Variable | undefined>();
  // A new form after each save: a fresh one clears what was typed, a typed secret included.
  const [formRound, setFormRound] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState('');

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setVariables(await client.projects.variables(projectName, signal));
      } catch (err) {
        if (!signal?.aborted) setError((err as Error).message);
      }
    },
    [client, projectName],
  );
  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  const replace = async (list: VariableInput[], done: string) => {
    await client.projects.setVariables(projectName, list);
    setEditing(undefined);
    setFormRound((n) => n + 1);
    setStatus(done);
    await load();
  };
  const save = (input: VariableInput) => {
    const current = variables ?? [];
    const list = editing
      ? current.map((v) => (v.id === editing.id ? input : inputOf(v)))
      : [...current.map(inputOf), input];
    return replace(list, `${input.name} saved.`);
  };
  const remove = async (variable: Variable) => {
    setError(undefined);
    try {
      await replace((variables ?? []).filter((v) => v.id !== variable.id).map(inputOf), `${variable.name} removed.`);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const shown: Column<Variable>[] = [
    { header: 'Name', cell: (v) => v.name },
    {
      header: 'Value',
      cell: (v) =>
        v.sensitive ? (
          <span className="secret">set (sensitive)</span>
        ) : v.value ? (
          <code className="value">{v.value}</code>
        ) : (
          <span className="none">empty</span>
        ),
    },
    { header: 'Scope', cell: scopeText },
  ];
  const columns: Column<Variable>[] = [
    ...shown,
    {
      header: 'Change',
      cell: (v) => (
        <span className="row-actions">
          <button type="button" aria-label={`Edit ${v.name} (${scopeText(v)})`} onClick={() => setEditing(v)}>
            Edit
          </button>
          <button type="button" aria-label={`Remove ${v.name} (${scopeText(v)})`} onClick={() => void remove(v)}>
            Remove
          </button>
        </span>
      ),
    },
  ];

  return (
    <section className="card" aria-labelledby="variables-heading">
      <h2 id="variables-heading">Variables</h2>
      {variables?.length === 0 && !editable && <p className="empty">No variables.</p>}
      {variables?.length === 0 && editable && (
        <p className="empty">
          No variables yet: add one below, and use it in a script as{' '}
          <code>
            #{'{'}Name{'}'}
          </code>
          .
        </p>
      )}
      {variables && variables.length > 0 && (
        <DataTable
          labelledBy="variables-heading"
          columns={editable ? columns : shown}
          rows={variables}
          rowKey={(v) => v.id}
        />
      )}
      <ErrorMessage message={error} />
      <p role="status">{status}</p>
      {editable && (
        <VariableForm
          key={`${editing?.id ?? 'new'}-${formRound}`}
          variable={editing}
          environments={props.environments}
          targets={props.targets}
          onSave={save}
          onCancel={() => setEditing(undefined)}
        />
      )}
    </section>
  );
}
