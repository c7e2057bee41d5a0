// The ReplicationController controller: kube runs the ReplicaSet controller's code for it
// (pkg/controller/replication wraps pkg/controller/replicaset), and so does the sandbox. An
// RC's selector is a plain label map; the pods it keeps are found by ownerReference.
import type { KubeClient } from '../client/kubeClient.js';
import { ReplicaController } from './replicaSet.js';

export class ReplicationManager extends ReplicaController {
  constructor(client: KubeClient) {
    super(client, {
      apiVersion: 'v1',
      resource: 'replicationcontrollers',
      kind: 'ReplicationController',
      component: 'replication-controller',
      terminatingReplicas: false,
    });
  }
}
