// Starts and stops the sandbox's controllers: each one an API client of the server, like
// kube-controller-manager's.
import type { KubeClient } from '../client/kubeClient.js';
import type { ControllersConfig } from '../config/sandboxConfig.js';
import { APIServiceAvailability } from './apiServiceAvailability.js';
import { DaemonSetController } from './daemonSet.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { CronJobController } from './cronJob.js';
import { GarbageCollector } from './garbageCollector.js';
import { JobController } from './job.js';
import { NamespaceDefaultsController } from './namespaceDefaults.js';
import { NamespaceDeletionController } from './namespaceDeletion.js';
import { PodGarbageCollector } from './podGarbageCollector.js';
import { ReplicaSetController } from './replicaSet.js';
import { ReplicationManager } from './replicationController.js';

export interface ControllerSet {
  stop(): Promise<void>;
}

interface Runnable {
  start(): void;
  stop(): void;
}

export function startControllers(client: KubeClient, enabled: ControllersConfig, caPem: string): ControllerSet {
  const all: Runnable[] = [];
  if (enabled.deployments) all.push(new DeploymentController(client));
  if (enabled.replicaSets) all.push(new ReplicaSetController(client));
  if (enabled.replicationControllers) all.push(new ReplicationManager(client));
  if (enabled.daemonSets) all.push(new DaemonSetController(client));
  if (enabled.podGarbageCollector) all.push(new PodGarbageCollector(client));
  if (enabled.apiServiceAvailability) all.push(new APIServiceAvailability(client));
  if (enabled.serviceAccounts || enabled.rootCaPublisher) {
    all.push(
      new NamespaceDefaultsController(client, {
        serviceAccount: enabled.serviceAccounts,
        ...(enabled.rootCaPublisher ? { caPem } : {}),
      }),
    );
  }
  if (enabled.garbageCollector) all.push(new GarbageCollector(client));
  if (enabled.namespaces) all.push(new NamespaceDeletionController(client));
  if (enabled.endpoints) all.push(new EndpointsController(client));
  if (enabled.jobs) all.push(new JobController(client, { podBackoffMs: enabled.jobPodBackoffMs }));
  if (enabled.cronJobs) all.push(new CronJobController(client));
  for (const c of all) c.start();
  return {
    async stop() {
      for (const c of all) c.stop();
    },
  };
}
