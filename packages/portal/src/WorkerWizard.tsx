import { useEffect, useState, type FormEvent } from 'react';
import type { InstallCommand, LongshoreClient, Worker, WorkerPool } from '@longshore/client';
import { ErrorMessage } from './ErrorMessage.js';
import './formLayout.css';
import './WorkerWizard.css';

/** How often the wizard looks for the new worker: it registers within seconds of helm. */
const WATCH_MS = 2_000;

/**
 * Add a Kubernetes worker: what it is called, which pools it serves, where it runs and what its
 * script pods ask for → the exact `helm upgrade --install` command (with a single-use token) to
 * copy → the worker registering and turning healthy, watched live. Its first health check is
 * asked for as soon as it registers, rather than at the schedule's next turn.
 */
export function WorkerWizard(props: { client: LongshoreClient; pools: WorkerPool[] }) {
  const { client, pools } = props;
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [namespace, setNamespace] = useState('longshore');
  const [image, setImage] = useState('');
  const [cpu, setCpu] = useState('250m');
  const [memory, setMemory] = useState('256Mi');
  const [install, setInstall] = useState<InstallCommand | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      setInstall(
        await client.workers.installCommand({
          pools: chosen.length ? chosen : pools.filter((p) => p.isDefault).map((p) => p.name),
          name: name.trim(),
          namespace: namespace.trim(),
          values: {
            ...(image.trim() ? { 'scriptPods.worker.image': image.trim() } : {}),
            'scriptPods.resources.requests.cpu': cpu.trim(),
            'scriptPods.resources.requests.memory': memory.trim(),
          },
        }),
      );
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const copy = async () => {
    if (!install) return;
    await navigator.clipboard.writeText(install.command).then(
      () => setCopied(true),
      () => setError('The browser refused the clipboard: select the command and copy it by hand'),
    );
  };

  return (
    <section className="card" aria-labelledby="wizard-heading">
      <h2 id="wizard-heading">Add a Kubernetes worker</h2>
      <form className="wizard-form" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor="wizard-name">Worker name</label>
          <input id="wizard-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="wizard-namespace">Namespace</label>
          <input id="wizard-namespace" value={namespace} onChange={(e) => setNamespace(e.target.value)} required />
        </div>
        <fieldset className="wizard-pools">
          <legend>Worker pools</legend>
          {pools.map((p) => (
            <label key={p.id} className="choice">
              <input
                type="checkbox"
                checked={chosen.includes(p.name)}
                onChange={(e) =>
                  setChosen((all) => (e.target.checked ? [...all, p.name] : all.filter((n) => n !== p.name)))
                }
              />
              {p.name}
              {p.isDefault ? ' (default)' : ''}
            </label>
          ))}
        </fieldset>
        <div className="field wizard-wide">
          <label htmlFor="wizard-image">Script pod image (default: the worker-tools image)</label>
          <input id="wizard-image" value={image} onChange={(e) => setImage(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="wizard-cpu">Script pod CPU request</label>
          <input id="wizard-cpu" value={cpu} onChange={(e) => setCpu(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="wizard-memory">Script pod memory request</label>
          <input id="wizard-memory" value={memory} onChange={(e) => setMemory(e.target.value)} required />
        </div>
        <div className="form-actions wizard-wide">
          <button type="submit">Get the install command</button>
        </div>
        <ErrorMessage message={error} />
      </form>
      {install && (
        <>
          <p>
            Run this where helm reaches the cluster
            {install.expiresAt ? ` (its token works once, until ${new Date(install.expiresAt).toLocaleString()})` : ''}:
          </p>
          <pre className="log install-command" aria-label="Install command">
            {install.command}
          </pre>
          <button type="button" onClick={() => void copy()}>
            {copied ? 'Copied' : 'Copy the command'}
          </button>
          <NewWorkerWatch client={client} name={name.trim()} />
        </>
      )}
    </section>
  );
}

function NewWorkerWatch(props: { client: LongshoreClient; name: string }) {
  const { client, name } = props;
  const [worker, setWorker] = useState<Worker | undefined>();
  useEffect(() => {
    const abort = new AbortController();
    let checked = false;
    const look = async () => {
      const found = (await client.workers.list(abort.signal).catch(() => [])).find((w) => w.name === name);
      if (abort.signal.aborted) return;
      setWorker(found);
      if (found && !checked) {
        checked = true;
        await client.workers.check(found.name, abort.signal).catch(() => undefined);
      }
    };
    void look();
    const timer = setInterval(() => void look(), WATCH_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [client, name]);
  const said = !worker
    ? `Waiting for ${name} to register…`
    : worker.health === 'healthy'
      ? `${name} is registered and healthy (version ${worker.version}).`
      : worker.health === 'unknown'
        ? `${name} registered (${worker.status}); its first health check is running…`
        : `${name} is ${worker.health}: ${worker.healthReasons.join('; ')}`;
  return (
    <p role="status" aria-live="polite">
      {said}
    </p>
  );
}
