import { useEffect, useState } from 'react';
import { isErrorCode, type LongshoreClient, type Project, type WorkerPool } from '@longshore/client';
import { useAccess } from './Access.js';
import { DataTable, type Column } from './DataTable.js';
import { ErrorMessage } from './ErrorMessage.js';
import { Link } from './Link.js';
import { NewProjectForm } from './NewProjectForm.js';
import { navigate, projectPath } from './navigation.js';

const columns: Column<Project>[] = [
  { header: 'Project', cell: (p) => <Link to={projectPath(p.name)}>{p.name}</Link> },
  {
    header: 'Steps',
    cell: (p) =>
      p.process.steps.length === 0 ? (
        <span className="none">none yet</span>
      ) : (
        p.process.steps.map((s) => s.name).join(' → ')
      ),
  },
  { header: 'Changed', cell: (p) => new Date(p.updatedAt).toLocaleString() },
];

/**
 * The projects the user may see, each linking to its page; and, for whoever may create projects,
 * a form for a new one, which opens its page once made.
 */
export function ProjectsPage(props: { client: LongshoreClient; onUnauthenticated: () => void }) {
  const { client, onUnauthenticated } = props;
  const { may } = useAccess();
  const creates = may('project:edit');
  // The step editor's choices: the pools and the feed's packages, where the user may see them.
  const readsPools = creates && may('worker:view');
  const readsPackages = creates && may('package:view');
  const [projects, setProjects] = useState<Project[] | undefined>();
  const [pools, setPools] = useState<WorkerPool[]>([]);
  const [packageIds, setPackageIds] = useState<string[]>([]);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    void Promise.all([
      client.projects.list(signal),
      readsPools ? client.workerPools.list(signal) : [],
      readsPackages ? client.packages.list(signal) : [],
    ]).then(
      ([p, w, packages]) => {
        setProjects(p);
        setPools(w);
        setPackageIds([...new Set(packages.map((k) => k.packageId))]);
      },
      (err: unknown) => {
        if (signal.aborted) return;
        if (isErrorCode(err, 'UNAUTHENTICATED')) onUnauthenticated();
        else setError((err as Error).message);
      },
    );
    return () => abort.abort();
  }, [client, onUnauthenticated, readsPools, readsPackages]);

  return (
    <>
      <h1 id="projects-heading">Projects</h1>
      <ErrorMessage message={error} />
      {projects?.length === 0 && (
        <p className="empty">{creates ? 'No projects yet: create the first one below.' : 'No projects to show.'}</p>
      )}
      {projects && projects.length > 0 && (
        <DataTable labelledBy="projects-heading" columns={columns} rows={projects} rowKey={(p) => p.id} />
      )}
      {creates && (
        <NewProjectForm
          client={client}
          pools={pools}
          packageIds={packageIds}
          onCreated={(project) => navigate(projectPath(project.name))}
        />
      )}
    </>
  );
}
