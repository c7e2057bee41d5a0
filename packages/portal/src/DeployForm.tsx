import { useState, type FormEvent } from 'react';
import type { Environment, LongshoreClient, Release } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';
import { navigate, taskPath } from './navigation.js';

/** The release option that makes a new release of the process as it is now, then deploys it. */
const NEW_RELEASE = '';

/**
 * Deploys a release of the project to an environment and opens the deployment's task. Until
 * the user picks, the release is the newest (or, with none yet, a new one). It offers the
 * environments the user may deploy the project to, and a new release only to whoever may make one.
 */
export function DeployForm(props: {
  client: LongshoreClient;
  projectName: string;
  /** undefined while they load: deploying waits for them, not to deploy a new release by mistake. */
  releases: Release[] | undefined;
  environments: Environment[];
  createsReleases: boolean;
  onReleased: () => void;
}) {
  const { client, projectName, releases, environments, createsReleases } = props;
  const [picked, setPicked] = useState<string | undefined>();
  const [pickedEnvironment, setPickedEnvironment] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const release = picked ?? releases?.[0]?.version ?? NEW_RELEASE;
  const environment = pickedEnvironment ?? environments[0]?.name ?? '';

  const deploy = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      let version = release;
      if (version === NEW_RELEASE) {
        version = (await client.releases.create(projectName)).version;
        props.onReleased();
      }
      const deployment = await client.deployments.create({ project: projectName, environment, release: version });
      navigate(taskPath(deployment.taskId));
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="deploy-heading">
      <h2 id="deploy-heading">Deploy</h2>
      {environments.length === 0 ? (
        <p className="empty">
          No environment to deploy to yet: create one with <code>longshore apply -f longshore.yaml</code>.
        </p>
      ) : releases?.length === 0 && !createsReleases ? (
        <p className="empty">No release to deploy yet.</p>
      ) : (
        <form className="deploy-form" onSubmit={(e) => void deploy(e)}>
          <div className="field">
            <label htmlFor="deploy-release">Release</label>
            <select id="deploy-release" value={release} onChange={(e) => setPicked(e.target.value)}>
              {releases?.map((r) => (
                <option key={r.id} value={r.version}>
                  {r.version}
                  {r.notes ? ` — ${r.notes.split('\n')[0]!.slice(0, 60)}` : ''}
                </option>
              ))}
              {createsReleases && <option value={NEW_RELEASE}>a new release of the process as it is now</option>}
            </select>
          </div>
          <div className="field">
            <label htmlFor="deploy-environment">Environment</label>
            <select id="deploy-environment" value={environment} onChange={(e) => setPickedEnvironment(e.target.value)}>
              {environments.map((e) => (
                <option key={e.id} value={e.name}>
                  {e.name}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={busy || releases === undefined}>
            Deploy
          </button>
          <ErrorMessage message={error} />
        </form>
      )}
    </section>
  );
}
