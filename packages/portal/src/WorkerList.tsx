import { useCallback, useEffect, useState } from 'react';
import type { LongshoreClient, Worker } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';
import { navigate, taskPath } from './navigation.js';
import { ErrorMessage } from './ErrorMessage.js';

/** The workers with their health and reasons, a health check on demand, and the server's upgrade where one is available. */
export function WorkerList(props: { client: LongshoreClient }) {
  const { client } = props;
  const [workers, setWorkers] = useState<Worker[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = useCallback(
    (signal?: AbortSignal) =>
      client.workers.list(signal).then(setWorkers, (err: unknown) => {
        if (!signal?.aborted) setError((err as Error).message);
      }),
    [client],
  );
  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

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

  const columns: Column<Worker>[] = [
    { header: 'Worker', cell: (w) => w.name },
    { header: 'Status', cell: (w) => (w.disabled ? 'disabled' : w.status) },
    {
      header: 'Health',
      cell: (w) => `${w.health}${w.healthReasons.length ? `: ${w.healthReasons.join('; ')}` : ''}`,
    },
    { header: 'Last check', cell: (w) => (w.lastHealthCheck ? new Date(w.lastHealthCheck).toLocaleString() : 'never') },
    { header: 'Version', cell: (w) => w.version },
    { header: 'Running', cell: (w) => `${w.running}/${w.capacity}` },
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
      {workers?.length === 0 ? (
        <p className="empty">No workers yet: add one below.</p>
      ) : (
        workers && <DataTable labelledBy="worker-list-heading" rows={workers} rowKey={(w) => w.id} columns={columns} />
      )}
    </section>
  );
}
