import { after, before } from 'node:test';
import {
  DEFAULT_CLUSTER,
  KubeClient,
  startCluster,
  startControllers,
  type ClusterConfig,
  type ControllerSet,
  type SandboxCluster,
} from '@longshore/sandbox';
import { ClientEnv, clientsMissing } from '../sandbox/support.js';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from './referenceCluster.js';

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

/** Why the scenarios on the reference control plane cannot run here, or false when they can. */
export function referenceSkip(): string | false {
  return (
    clientsMissing() ||
    (referenceClusterAvailable() ? false : 'reference control plane not built (bash test/control-plane/build.sh)')
  );
}

export interface ReferenceWithSandbox {
  ref: ReferenceCluster;
  sandbox: AttachedSandbox;
  /** kubectl and helm against the reference, with their own HOME. */
  env: ClientEnv;
}

/**
 * The reference control plane with the sandbox's nodes and controllers attached, started before
 * the tests of the enclosing suite (or file) and stopped after them; its fields are set once they
 * run. Nothing starts where referenceSkip() says the scenarios cannot run.
 */
export function referenceForSuite(config: ClusterConfig = DEFAULT_CLUSTER): ReferenceWithSandbox {
  const suite = {} as ReferenceWithSandbox;
  before(async () => {
    if (referenceSkip()) return;
    suite.ref = await startReferenceCluster();
    suite.sandbox = await attachSandbox(suite.ref, config);
    suite.env = new ClientEnv(suite.ref.kubeconfigPath);
  });
  after(async () => {
    await suite.sandbox?.stop();
    await suite.ref?.stop();
    suite.env?.cleanup();
  });
  return suite;
}
