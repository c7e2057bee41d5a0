import { useEffect, useState } from 'react';
import type { Environment, LongshoreClient, PoolStatistics, Target, Worker, WorkerPool } from '@longshore/client';
import { useAccess } from './Access.js';
import type { Access } from './access.js';

export interface Infrastructure {
  environments: Environment[];
  targets: Target[];
  pools: WorkerPool[];
  poolStatistics: PoolStatistics[];
  workers: Worker[];
}

/** How often the page reads again: queues, running operations and health change while it is open. */
const REFRESH_MS = 5_000;

/** What the user may not read is not asked for: its part of the page is not shown. */
async function load(client: LongshoreClient, access: Access, signal: AbortSignal): Promise<Infrastructure> {
  const seesWorkers = access.may('worker:view');
  const none = Promise.resolve([]);
  const [environments, targets, pools, poolStatistics, workers] = await Promise.all([
    access.mayList('environment:view') ? client.environments.list(signal) : none,
    access.may('target:view') ? client.targets.list(signal) : none,
    seesWorkers ? client.workerPools.list(signal) : none,
    seesWorkers ? client.poolStatistics(signal) : none,
    seesWorkers ? client.workers.list(signal) : none,
  ]);
  return { environments, targets, pools, poolStatistics, workers };
}

/**
 * Environments, targets, pools with their queues and workers, read together and again every few
 * seconds. A failed read keeps what was shown and says why; the next good one clears it.
 */
export function useInfrastructure(client: LongshoreClient): { data?: Infrastructure; error?: string } {
  const access = useAccess();
  const [data, setData] = useState<Infrastructure | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const abort = new AbortController();
    const read = () =>
      load(client, access, abort.signal).then(
        (loaded) => {
          setData(loaded);
          setError(undefined);
        },
        (err: unknown) => {
          if (!abort.signal.aborted) setError((err as Error).message);
        },
      );
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [client, access]);
  return { data, error };
}
