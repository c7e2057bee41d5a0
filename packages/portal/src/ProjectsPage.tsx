import { useCallback, useEffect, useState } from 'react';
import { isErrorCode, type Environment, type LongshoreClient, type Project, type WorkerPool } from '@longshore/client';
import { NewProjectForm } from './NewProjectForm.js';
import { navigate, taskPath } from './navigation.js';
import { ErrorMessage } from './ErrorMessage.js';

/** The projects, each with its steps and a Deploy form; and a form for a new one. */
export function ProjectsPage(props: { client: LongshoreClient; onUnauthenticated: () => void }) {
  const { client, onUnauthenticated } = props;
  const [projects, setProjects] = useState<Project[] | undefined>();
  const [environments, setEnvironments] = useState<Environment[]>([]);
  const [pools, setPools] = useState<WorkerPool[]>([]);
  const [error, setError] = useState<string | undefined>();

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const [p, e, w] = await Promise.all([
          client.projects.list(signal),
          client.environments.list(signal),
          client.workerPools.list(signal),
        ]);
        setProjects(p);
        setEnvironments(e);
        setPools(w);
      } catch (err) {
        if (signal?.aborted) return;
        if (isErrorCode(err, 'UNAUTHENTICATED')) onUnauthenticated();
        else setError((err as Error).message);
      }
    },
    [client, onUnauthenticated],
  );
  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  return (
    <>
      <h1>Projects</h1>
      <ErrorMessage message={error} />
      {projects?.length === 0 && <p className="empty">No projects yet: create the first one below.</p>}
      {projects?.map((p) => (
        <ProjectCard key={p.id} client={client} project={p} environments={environments} />
      ))}
      <NewProjectForm client={client} pools={pools} onCreated={() => void load()} />
    </>
  );
}

function ProjectCard(props: { client: LongshoreClient; project: Project; environments: Environment[] }) {
  const { client, project, environments } = props;
  const [environment, setEnvironment] = useState(environments[0]?.name ?? '');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const headingId = `project-${project.id}`;
  const selectId = `deploy-env-${project.id}`;

  // A new release each time: what is deployed is the process as it is now.
  const deploy = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const release = await client.releases.create(project.name);
      const deployment = await client.deployments.create({
        project: project.name,
        environment: environment || environments[0]?.name || '',
        release: release.version,
      });
      navigate(taskPath(deployment.taskId));
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{project.name}</h2>
      <ol>
        {project.process.steps.map((s) => (
          <li key={s.name}>
            {s.name}
            {s.runOn?.pool ? ` · pool ${s.runOn.pool}` : ''}
          </li>
        ))}
      </ol>
      {environments.length === 0 ? (
        <p className="empty">No environment to deploy to yet.</p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void deploy();
          }}
        >
          <label htmlFor={selectId}>Environment</label>{' '}
          <select id={selectId} value={environment} onChange={(e) => setEnvironment(e.target.value)}>
            {environments.map((e) => (
              <option key={e.id} value={e.name}>
                {e.name}
              </option>
            ))}
          </select>{' '}
          <button type="submit" disabled={busy}>
            Deploy {project.name}
          </button>
          <ErrorMessage message={error} />
        </form>
      )}
    </section>
  );
}
