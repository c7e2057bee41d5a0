import { useState } from 'react';
import type { LongshoreClient, Worker } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';
import { Link } from './Link.js';
import { navigate, taskPath } from './navigation.js';
import { ErrorMessage } from './ErrorMessage.js';
import { RunningOperations } from './RunningOperations.js';

/** Only a Kubernetes worker runs pods; its health check counts the script pods still pending. */
function pendingPods(w: Worker) {
  if (w.executor !== 'kubernetes') return <span className="none">—</span>;
  const pending = w.healthFacts.pendingScriptPods;
  if (pending === undefined) return <span className="none">not checked yet</span>;
  return pending === '0' ? 'none' : `${pending} pending`;
}

function lastCheck(w: Worker) {
  if (!w.lastHealthCheck) return <span className="none">never</span>;
  const when = new Date(w.lastHealthCheck).toLocaleString();
  if (!w.lastHealthCheckTaskId) return when;
  return (
    <>
      {when} · <Link to={taskPath(w.lastHealthCheckTaskId)}>check log</Link>
    </>
  );
}

/**
 * The workers with their health and reasons, what each runs now, a Kubernetes worker's pending
 * pods, the last check's log, and (for whoever manages workers) a health check on demand and the
 * server's upgrade where one is available.
 */
export function WorkerList(props: { client: LongshoreClient; workers: Worker[]; manages: boolean }) {
  const { client } = props;
  const [error, setError] = useState<string | undefined>();

  // Both start a task; its page shows how it goes.
  const act = async (start: () => Promise<{ taskId: string | null; message?: string }>) => {
    setError(undefined);
    try {
      const started = await start();
      if (started.taskId) navigate(taskPath(started.taskId));
      else setError(started.message);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const shown: Column<Worker>[] = [
    { header: 'Worker', cell: (w) => w.name },
    { header: 'Status', cell: (w) => (w.disabled ? 'disabled' : w.status) },
    {
      header: 'Health',
      cell: (w) => `${w.health}${w.healthReasons.length ? `: ${w.healthReasons.join('; ')}` : ''}`,
    },
    { header: 'Last check', cell: lastCheck },
    { header: 'Version', cell: (w) => w.version },
    { header: 'Running', cell: (w) => <RunningOperations worker={w} /> },
    { header: 'Pending pods', cell: pendingPods },
  ];
  const columns: Column<Worker>[] = [
    ...shown,
    {
      header: 'Actions',
      cell: (w) => (
        <>
          <button type="button" onClick={() => void act(() => client.workers.check(w.name))}>
            Check {w.name}
          </button>
          {w.upgradeAvailable &&
            (w.executor === 'kubernetes' ? (
              <button type="button" onClick={() => void act(() => client.workers.upgrade(w.name))}>
                Upgrade {w.name}
              </button>
            ) : (
              <span> upgrade available: {w.upgradeCommand}</span>
            ))}
        </>
      ),
    },
  ];

  return (
    <section aria-labelledby="worker-list-heading">
      <h2 id="worker-list-heading">Workers</h2>
      <ErrorMessage message={error} />
      {props.workers.length === 0 ? (
        <p className="empty">
          No workers yet: add a Kubernetes worker below, or start a local one with <code>longshore worker</code> and a
          token from <code>longshore workers token</code>.
        </p>
      ) : (
        <DataTable
          labelledBy="worker-list-heading"
          rows={props.workers}
          rowKey={(w) => w.id}
          columns={props.manages ? columns : shown}
        />
      )}
    </section>
  );
}
