import { useState, type FormEvent } from 'react';
import type { LongshoreClient, Project, WorkerPool } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';
import { StepList, problemsByStep, type ProblemsByStep } from './StepList.js';
import { emptyStep, stepOf, type StepDraft } from './stepDraft.js';
import { stepProblems } from './stepProblems.js';

/** A new project with its steps, edited as on a project's page. */
export function NewProjectForm(props: {
  client: LongshoreClient;
  pools: WorkerPool[];
  packageIds: string[];
  onCreated: (project: Project) => void;
}) {
  const [name, setName] = useState('');
  const [steps, setSteps] = useState<StepDraft[]>(() => [emptyStep()]);
  const [error, setError] = useState<string | undefined>();
  const [problems, setProblems] = useState<ProblemsByStep>(new Map());
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setProblems(new Map());
    try {
      const project = await props.client.projects.create({ name: name.trim(), process: { steps: steps.map(stepOf) } });
      setName('');
      setSteps([emptyStep()]);
      props.onCreated(project);
    } catch (err) {
      setError((err as Error).message);
      setProblems(problemsByStep(stepProblems(err), steps));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="new-project-heading">
      <h2 id="new-project-heading">New project</h2>
      <form onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor="project-name">Name</label>
          <input id="project-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <StepList
          idPrefix="new"
          steps={steps}
          onChange={setSteps}
          pools={props.pools}
          packageIds={props.packageIds}
          problems={problems}
        />{' '}
        <button type="submit" disabled={busy}>
          Create project
        </button>
        <ErrorMessage message={error} />
      </form>
    </section>
  );
}
