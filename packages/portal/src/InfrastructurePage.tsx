import { useEffect, useState } from 'react';
import type { LongshoreClient, WorkerPool } from '@longshore/client';
import { WorkerWizard } from './WorkerWizard.js';

/** Workers and pools: for now the wizard that adds a Kubernetes worker (the dashboard lists them). */
export function InfrastructurePage(props: { client: LongshoreClient }) {
  const [pools, setPools] = useState<WorkerPool[]>([]);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const abort = new AbortController();
    props.client.workerPools.list(abort.signal).then(setPools, (err: unknown) => {
      if (!abort.signal.aborted) setError((err as Error).message);
    });
    return () => abort.abort();
  }, [props.client]);
  return (
    <>
      <h1>Infrastructure</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <WorkerWizard client={props.client} pools={pools} />
    </>
  );
}
