import type { LongshoreClient } from '@longshore/client';
import { EnvironmentList } from './EnvironmentList.js';
import { ErrorMessage } from './ErrorMessage.js';
import { useInfrastructure } from './infrastructureData.js';
import { PoolList } from './PoolList.js';
import { TargetList } from './TargetList.js';
import { WorkerList } from './WorkerList.js';
import { WorkerWizard } from './WorkerWizard.js';

/**
 * Where deployments go and what runs them: environments with their targets, the targets, the
 * worker pools with their queues and capacity, the workers in depth, and the wizard that adds a
 * Kubernetes worker. Read again every few seconds.
 */
export function InfrastructurePage(props: { client: LongshoreClient }) {
  const { data, error } = useInfrastructure(props.client);
  return (
    <>
      <h1>Infrastructure</h1>
      <ErrorMessage message={error} />
      {!data ? (
        !error && <p aria-busy="true">Loading…</p>
      ) : (
        <>
          <EnvironmentList environments={data.environments} targets={data.targets} />
          <TargetList targets={data.targets} />
          <PoolList pools={data.pools} statistics={data.poolStatistics} />
          <WorkerList client={props.client} workers={data.workers} />
          <WorkerWizard client={props.client} pools={data.pools} />
        </>
      )}
    </>
  );
}
