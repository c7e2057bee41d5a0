import { useState, type FormEvent } from 'react';
import { isLongshoreError, type LongshoreClient, type WorkerPool } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';

interface StepDraft {
  name: string;
  body: string;
  pool: string;
}

const emptyStep = (): StepDraft => ({ name: '', body: '', pool: '' });

/** Which steps the server's problems name (`body.process.steps[1].name ...`), for their fields. */
function stepsNamed(err: unknown): Set<number> {
  const problems = isLongshoreError(err) ? (err.details?.problems as unknown) : undefined;
  const text = Array.isArray(problems) ? problems.join('\n') : isLongshoreError(err) ? err.message : '';
  return new Set([...text.matchAll(/steps\[(\d+)\]/g)].map((m) => Number(m[1])));
}

/** A new project with its steps: each a name, a script and optionally a worker pool. */
export function NewProjectForm(props: { client: LongshoreClient; pools: WorkerPool[]; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [steps, setSteps] = useState<StepDraft[]>([emptyStep()]);
  const [error, setError] = useState<string | undefined>();
  const [badSteps, setBadSteps] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);

  const edit = (index: number, change: Partial<StepDraft>) =>
    setSteps((all) => all.map((s, i) => (i === index ? { ...s, ...change } : s)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setBadSteps(new Set());
    try {
      await props.client.projects.create({
        name: name.trim(),
        process: {
          steps: steps.map((s) => ({
            name: s.name.trim(),
            script: { body: s.body },
            ...(s.pool ? { runOn: { pool: s.pool } } : {}),
          })),
        },
      });
      setName('');
      setSteps([emptyStep()]);
      props.onCreated();
    } catch (err) {
      setError((err as Error).message);
      setBadSteps(stepsNamed(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="new-project-heading">
      <h2 id="new-project-heading">New project</h2>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="project-name">Name</label>
        <input id="project-name" value={name} onChange={(e) => setName(e.target.value)} required />
        {steps.map((s, i) => (
          <fieldset key={i} aria-invalid={badSteps.has(i) || undefined}>
            <legend>Step {i + 1}</legend>
            <label htmlFor={`step-${i}-name`}>Step {i + 1} name</label>
            <input id={`step-${i}-name`} value={s.name} onChange={(e) => edit(i, { name: e.target.value })} />
            <label htmlFor={`step-${i}-script`}>Step {i + 1} script</label>
            <textarea
              id={`step-${i}-script`}
              className="script"
              rows={4}
              spellCheck={false}
              value={s.body}
              onChange={(e) => edit(i, { body: e.target.value })}
            />
            <label htmlFor={`step-${i}-pool`}>Step {i + 1} worker pool</label>
            <select id={`step-${i}-pool`} value={s.pool} onChange={(e) => edit(i, { pool: e.target.value })}>
              <option value="">the default pool</option>
              {props.pools.map((p) => (
                <option key={p.id} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
            {steps.length > 1 && (
              <button type="button" onClick={() => setSteps((all) => all.filter((_, j) => j !== i))}>
                Remove step {i + 1}
              </button>
            )}
          </fieldset>
        ))}
        <button type="button" onClick={() => setSteps((all) => [...all, emptyStep()])}>
          Add a step
        </button>{' '}
        <button type="submit" disabled={busy}>
          Create project
        </button>
        <ErrorMessage message={error} />
      </form>
    </section>
  );
}
