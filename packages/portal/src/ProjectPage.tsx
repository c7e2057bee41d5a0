import { useCallback, useEffect, useState } from 'react';
import {
  isErrorCode,
  type Environment,
  type LongshoreClient,
  type Project,
  type Release,
  type Target,
  type WorkerPool,
} from '@longshore/client';
import { useAccess } from './Access.js';
import { DeployForm } from './DeployForm.js';
import { ErrorMessage } from './ErrorMessage.js';
import { Link } from './Link.js';
import { ProcessEditor } from './ProcessEditor.js';
import { ProcessView } from './ProcessView.js';
import { ReleaseList } from './ReleaseList.js';
import { StepUsageSection } from './StepUsage.js';
import { VariablesEditor } from './VariablesEditor.js';
import './formLayout.css';
import './ProjectPage.css';

/** What the page's parts choose from: where to deploy, which pools and packages a step can name. */
interface Choices {
  environments: Environment[];
  pools: WorkerPool[];
  targets: Target[];
  packageIds: string[];
}

/**
 * A project's own page (`/projects/<name>`): deploy it, its releases, its deployment process and
 * its variables; each part as far as the user may use it (read-only, or not shown).
 */
export function ProjectPage(props: { client: LongshoreClient; name: string; onUnauthenticated: () => void }) {
  const { client, name, onUnauthenticated } = props;
  const { may, mayList } = useAccess();
  // What the user may do here decides what is read: the editors' choices only for whoever edits.
  const here = { project: name };
  const editsProcess = may('process:edit', here);
  const editsVariables = may('variable:edit', here);
  const readsEnvironments = mayList('environment:view');
  const readsPools = editsProcess && may('worker:view');
  const readsTargets = editsVariables && may('target:view');
  const readsPackages = editsProcess && may('package:view');
  const [project, setProject] = useState<Project | undefined>();
  const [choices, setChoices] = useState<Choices | undefined>();
  const [releases, setReleases] = useState<Release[] | undefined>();
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const failed = useCallback(
    (err: unknown) => {
      if (isErrorCode(err, 'UNAUTHENTICATED')) onUnauthenticated();
      else if (isErrorCode(err, 'NOT_FOUND')) setMissing(true);
      else setError((err as Error).message);
    },
    [onUnauthenticated],
  );
  const loadReleases = useCallback(
    (signal?: AbortSignal) =>
      client.releases.list(name, signal).then(setReleases, (err: unknown) => signal?.aborted || failed(err)),
    [client, name, failed],
  );

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    void Promise.all([
      client.projects.get(name, signal),
      readsEnvironments ? client.environments.list(signal) : [],
      readsPools ? client.workerPools.list(signal) : [],
      readsTargets ? client.targets.list(signal) : [],
      readsPackages ? client.packages.list(signal) : [],
    ]).then(
      ([p, environments, pools, targets, packages]) => {
        setProject(p);
        setChoices({ environments, pools, targets, packageIds: [...new Set(packages.map((k) => k.packageId))] });
      },
      (err: unknown) => signal.aborted || failed(err),
    );
    void loadReleases(signal);
    return () => abort.abort();
  }, [client, name, failed, loadReleases, readsEnvironments, readsPools, readsTargets, readsPackages]);

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <Link to="/projects">Projects</Link> /
    </nav>
  );
  if (missing)
    return (
      <>
        {breadcrumb}
        <h1>No project named {name}</h1>
        <p className="empty">
          It may have been deleted or renamed: pick one from <Link to="/projects">the projects</Link>.
        </p>
      </>
    );
  return (
    <>
      {breadcrumb}
      <h1>{project?.name ?? name}</h1>
      {project?.description && <p>{project.description}</p>}
      <ErrorMessage message={error} />
      {project && choices && (
        <div className="project-page">
          {may('deployment:create', here) && (
            <DeployForm
              client={client}
              projectName={project.name}
              releases={releases}
              environments={choices.environments.filter((e) =>
                may('deployment:create', { ...here, environment: e.name }),
              )}
              createsReleases={may('release:create', here)}
              onReleased={() => void loadReleases()}
            />
          )}
          <ReleaseList
            client={client}
            projectName={project.name}
            releases={releases}
            createsReleases={may('release:create', here)}
            onCreated={() => void loadReleases()}
          />
          {editsProcess ? (
            <ProcessEditor
              client={client}
              project={project}
              pools={choices.pools}
              packageIds={choices.packageIds}
              onSaved={setProject}
            />
          ) : (
            <ProcessView process={project.process} />
          )}
          <StepUsageSection client={client} project={project} />
          {may('variable:view', here) && (
            <VariablesEditor
              client={client}
              projectName={project.name}
              environments={choices.environments}
              targets={choices.targets}
              editable={editsVariables}
            />
          )}
        </div>
      )}
    </>
  );
}
