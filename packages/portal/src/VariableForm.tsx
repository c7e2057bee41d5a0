import { useState, type FormEvent } from 'react';
import type { Environment, Target, Variable, VariableInput, VariableScope } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';

/** Checkboxes for a scope list: the choices there are, and any the variable names that no longer is one. */
function ScopeChoices(props: {
  legend: string;
  idPrefix: string;
  choices: string[];
  chosen: string[];
  onChange: (chosen: string[]) => void;
}) {
  const all = [...new Set([...props.choices, ...props.chosen])];
  if (all.length === 0) return null;
  return (
    <fieldset className="choices">
      <legend>{props.legend}</legend>
      {all.map((name, i) => (
        <label key={name} htmlFor={`${props.idPrefix}-${i}`} className="choice">
          <input
            id={`${props.idPrefix}-${i}`}
            type="checkbox"
            checked={props.chosen.includes(name)}
            onChange={(e) =>
              props.onChange(e.target.checked ? [...props.chosen, name] : props.chosen.filter((c) => c !== name))
            }
          />{' '}
          {name}
        </label>
      ))}
    </fieldset>
  );
}

const listOf = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/**
 * A new variable, or a change to one. A sensitive value is never shown: the field says whether
 * one is set, and left empty keeps it (the server keeps the value stored for the same name and scope).
 */
export function VariableForm(props: {
  variable: Variable | undefined;
  environments: Environment[];
  targets: Target[];
  onSave: (input: VariableInput) => Promise<void>;
  onCancel: () => void;
}) {
  const { variable } = props;
  const [name, setName] = useState(variable?.name ?? '');
  const [sensitive, setSensitive] = useState(variable?.sensitive ?? false);
  const [value, setValue] = useState(variable?.value ?? '');
  const [environments, setEnvironments] = useState(variable?.scope.environments ?? []);
  const [targets, setTargets] = useState(variable?.scope.targets ?? []);
  const [tags, setTags] = useState((variable?.scope.targetTags ?? []).join(', '));
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const secretStored = variable?.sensitive === true;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const scope: VariableScope = {};
    if (environments.length > 0) scope.environments = environments;
    if (targets.length > 0) scope.targets = targets;
    if (listOf(tags).length > 0) scope.targetTags = listOf(tags);
    try {
      await props.onSave({
        name: name.trim(),
        ...(sensitive ? { sensitive: true } : {}),
        ...(sensitive && value === '' ? {} : { value }),
        scope,
      });
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  const secretState = value !== '' ? 'to be replaced' : secretStored ? 'set: leave empty to keep it' : 'not set';
  return (
    <form className="variable-form" aria-labelledby="variable-form-heading" onSubmit={(e) => void submit(e)}>
      <h3 id="variable-form-heading">{variable ? `Edit ${variable.name}` : 'Add a variable'}</h3>
      <div className="field">
        <label htmlFor="variable-name">Variable name</label>
        <input
          id="variable-name"
          value={name}
          autoFocus={variable !== undefined}
          onChange={(e) => setName(e.target.value)}
          required
        />
      </div>
      <label htmlFor="variable-sensitive" className="choice">
        <input
          id="variable-sensitive"
          type="checkbox"
          checked={sensitive}
          onChange={(e) => setSensitive(e.target.checked)}
        />{' '}
        Sensitive: stored encrypted, never shown again
      </label>
      <div className="field">
        <label htmlFor="variable-value">Value</label>
        {sensitive ? (
          <input
            id="variable-value"
            type="password"
            autoComplete="new-password"
            value={value}
            aria-describedby="variable-secret-state"
            onChange={(e) => setValue(e.target.value)}
          />
        ) : (
          <textarea id="variable-value" rows={2} value={value} onChange={(e) => setValue(e.target.value)} />
        )}
        {sensitive && (
          <span id="variable-secret-state" className="hint">
            Value {secretState}.{secretStored ? ' A new name or scope needs the value again.' : ''}
          </span>
        )}
      </div>
      <fieldset className="scope">
        <legend>Scope</legend>
        <p className="hint">Nothing chosen: every deployment. Where several match, the most specific value wins.</p>
        <ScopeChoices
          legend="Environments"
          idPrefix="variable-environment"
          choices={props.environments.map((e) => e.name)}
          chosen={environments}
          onChange={setEnvironments}
        />
        <ScopeChoices
          legend="Deployment targets"
          idPrefix="variable-target"
          choices={props.targets.map((t) => t.name)}
          chosen={targets}
          onChange={setTargets}
        />
        <div className="field">
          <label htmlFor="variable-tags">Target tags</label>
          <input
            id="variable-tags"
            value={tags}
            placeholder="e.g. web, api"
            onChange={(e) => setTags(e.target.value)}
          />
        </div>
      </fieldset>
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {variable ? 'Save the variable' : 'Add the variable'}
        </button>
        {variable && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <ErrorMessage message={error} />
    </form>
  );
}
