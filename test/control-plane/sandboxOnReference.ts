import {
  KubeClient,
  startCluster,
  startControllers,
  type ClusterConfig,
  type ControllerSet,
  type SandboxCluster,
} from '@longshore/sandbox';
import type { ReferenceCluster } from './referenceCluster.js';

/** The sandbox's nodes (scheduler, virtual nodes, autoscaler) and controllers, attached to the reference control plane. */
export interface AttachedSandbox {
  cluster: SandboxCluster;
  controllers: ControllerSet;
  stop(): Promise<void>;
}

export async function attachSandbox(ref: ReferenceCluster, config: ClusterConfig): Promise<AttachedSandbox> {
  const cluster = await startCluster({ server: ref.server, caPem: ref.caPem, token: ref.adminToken, config });
  // The chart's Deployment needs the controllers this control plane runs without (its kube-controller-manager is not started): the sandbox's, attached like its nodes.
  const controllers = startControllers(
    new KubeClient({
      server: ref.server,
      caPem: ref.caPem,
      token: ref.adminToken,
      userAgent: 'longshore-test-controllers',
    }),
    {
      deployments: true,
      replicaSets: true,
      replicationControllers: true,
      daemonSets: true,
      podGarbageCollector: true,
      // kube-apiserver's aggregator sets APIService conditions itself.
      apiServiceAvailability: false,
      serviceAccounts: true,
      garbageCollector: true,
      namespaces: false,
      rootCaPublisher: true,
      endpoints: true,
      jobs: true,
      cronJobs: true,
      jobPodBackoffMs: 200,
    },
    ref.caPem,
  );
  return {
    cluster,
    controllers,
    async stop() {
      await controllers.stop();
      await cluster.stop({ deleteNodes: false });
    },
  };
}
