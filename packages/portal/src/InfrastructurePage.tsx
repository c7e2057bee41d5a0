import { useEffect, useState } from 'react';
import type { LongshoreClient, WorkerPool } from '@longshore/client';
import { WorkerList } from './WorkerList.js';
import { WorkerWizard } from './WorkerWizard.js';
import { ErrorMessage } from './ErrorMessage.js';

/** The workers (health, checks, upgrades) and the wizard that adds a Kubernetes worker. */
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
      <ErrorMessage message={error} />
      <WorkerList client={props.client} />
      <WorkerWizard client={props.client} pools={pools} />
    </>
  );
}
