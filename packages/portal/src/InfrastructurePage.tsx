import type { LongshoreClient } from '@longshore/client';
import { useAccess } from './Access.js';
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
 * Kubernetes worker; each as far as the user may see and change it. Read again every few seconds.
 */
export function InfrastructurePage(props: { client: LongshoreClient }) {
  const { may, mayList } = useAccess();
  const { data, error } = useInfrastructure(props.client);
  const seesWorkers = may('worker:view');
  return (
    <>
      <h1>Infrastructure</h1>
      <ErrorMessage message={error} />
      {!data ? (
        !error && <p aria-busy="true">Loading…</p>
      ) : (
        <>
          {mayList('environment:view') && <EnvironmentList environments={data.environments} targets={data.targets} />}
          {may('target:view') && <TargetList targets={data.targets} />}
          {seesWorkers && <PoolList pools={data.pools} statistics={data.poolStatistics} />}
          {seesWorkers && <WorkerList client={props.client} workers={data.workers} manages={may('worker:manage')} />}
          {seesWorkers && may('worker:register') && <WorkerWizard client={props.client} pools={data.pools} />}
        </>
      )}
    </>
  );
}
