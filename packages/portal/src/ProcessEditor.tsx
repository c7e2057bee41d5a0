import { useState, type FormEvent } from 'react';
import type { LongshoreClient, Project, WorkerPool } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';
import { StepList, problemsByStep, type ProblemsByStep } from './StepList.js';
import { draftOf, stepOf, type StepDraft } from './stepDraft.js';
import { stepProblems } from './stepProblems.js';

/**
 * A project's deployment process, edited as a whole and saved at once (the server takes all of
 * it or none). A refused save keeps every edit, with the server's problems by the fields.
 */
export function ProcessEditor(props: {
  client: LongshoreClient;
  project: Project;
  pools: WorkerPool[];
  packageIds: string[];
  onSaved: (project: Project) => void;
}) {
  const { client, project } = props;
  const [steps, setSteps] = useState<StepDraft[]>(() => project.process.steps.map(draftOf));
  const [changed, setChanged] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [problems, setProblems] = useState<ProblemsByStep>(new Map());
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);

  const edit = (next: StepDraft[]) => {
    setSteps(next);
    setChanged(true);
    setStatus('');
  };
  const reset = (saved: Project) => {
    setSteps(saved.process.steps.map(draftOf));
    setChanged(false);
    setError(undefined);
    setProblems(new Map());
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setStatus('');
    try {
      const saved = await client.projects.updateProcess(project.name, { steps: steps.map(stepOf) });
      reset(saved);
      setStatus('Saved: the next release takes this process.');
      props.onSaved(saved);
    } catch (err) {
      setError((err as Error).message);
      setProblems(problemsByStep(stepProblems(err), steps));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="process-heading">
      <h2 id="process-heading">Deployment process</h2>
      <form onSubmit={(e) => void save(e)}>
        <StepList
          idPrefix="process"
          steps={steps}
          onChange={edit}
          pools={props.pools}
          packageIds={props.packageIds}
          problems={problems}
        />
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            Save the process
          </button>
          {changed && (
            <button type="button" onClick={() => reset(project)}>
              Discard changes
            </button>
          )}
          <span className="hint">{changed ? 'Unsaved changes.' : ''}</span>
          <span role="status">{status}</span>
        </div>
        <ErrorMessage message={error} />
      </form>
    </section>
  );
}
