import { useEffect, useState } from 'react';
import type { Environment, LongshoreClient, PoolStatistics, Target, Worker, WorkerPool } from '@longshore/client';

export interface Infrastructure {
  environments: Environment[];
  targets: Target[];
  pools: WorkerPool[];
  poolStatistics: PoolStatistics[];
  workers: Worker[];
}

/** How often the page reads again: queues, running operations and health change while it is open. */
const REFRESH_MS = 5_000;

async function load(client: LongshoreClient, signal: AbortSignal): Promise<Infrastructure> {
  const [environments, targets, pools, poolStatistics, workers] = await Promise.all([
    client.environments.list(signal),
    client.targets.list(signal),
    client.workerPools.list(signal),
    client.poolStatistics(signal),
    client.workers.list(signal),
  ]);
  return { environments, targets, pools, poolStatistics, workers };
}

/**
 * Environments, targets, pools with their queues and workers, read together and again every few
 * seconds. A failed read keeps what was shown and says why; the next good one clears it.
 */
export function useInfrastructure(client: LongshoreClient): { data?: Infrastructure; error?: string } {
  const [data, setData] = useState<Infrastructure | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const abort = new AbortController();
    const read = () =>
      load(client, abort.signal).then(
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
  }, [client]);
  return { data, error };
}
