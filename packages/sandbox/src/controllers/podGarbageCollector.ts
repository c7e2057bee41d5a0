// The pod garbage collector's orphan sweep (pkg/controller/podgc gcOrphaned): a pod bound to a
// node that no longer exists is marked DisruptionTarget (DeletionByPodGC) and deleted at once,
// since no kubelet is left to confirm a graceful deletion. kube waits 40 s and asks the API
// again before it believes a node is gone (its informer may lag); the sandbox asks the API
// again after a short quarantine, so a removed node's pods go within seconds.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import type { Obj } from './podUtil.js';

export class PodGarbageCollector {
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly queue: WorkQueue;

  constructor(
    private readonly client: KubeClient,
    private readonly quarantineMs = 2_000,
  ) {
    this.queue = new WorkQueue((node) => this.sweep(node));
    this.pods = new Informer(client, apiPath('v1', 'pods')).on((type, pod) => {
      const node = nodeOf(pod);
      if (type !== 'DELETED' && node && !this.nodes.get(node)) this.queue.addAfter(node, this.quarantineMs);
    });
    this.nodes = new Informer(client, apiPath('v1', 'nodes')).on((type, node) => {
      if (type === 'DELETED') this.queue.addAfter(node.metadata.name, this.quarantineMs);
    });
  }

  start(): void {
    this.nodes.start();
    void this.nodes.hasSynced.then(() => this.pods.start());
  }
  stop(): void {
    this.queue.stop();
    this.pods.stop();
    this.nodes.stop();
  }

  private async sweep(node: string): Promise<void> {
    await Promise.all([this.nodes.hasSynced, this.pods.hasSynced]);
    if (this.nodes.get(node)) return;
    const check = await this.client.request('GET', apiPath('v1', 'nodes', undefined, node));
    if (check.status !== 404) {
      if (check.status !== 200) throw new Error(`checking node ${node}: ${check.status}`);
      return;
    }
    for (const pod of this.pods.list().filter((p) => nodeOf(p) === node)) await this.deleteOrphan(pod);
  }

  private async deleteOrphan(pod: K8sObject): Promise<void> {
    const { namespace, name } = pod.metadata;
    const status = (pod.status ?? {}) as Obj;
    if (status.phase !== 'Succeeded' && status.phase !== 'Failed') {
      const condition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByPodGC',
        message: 'PodGC: node no longer exists',
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      const conditions = [
        ...((status.conditions ?? []) as Obj[]).filter((c) => c.type !== 'DisruptionTarget'),
        condition,
      ];
      await this.client.request(
        'PATCH',
        apiPath('v1', 'pods', namespace, name, 'status'),
        { status: { conditions, phase: 'Failed' } },
        'application/merge-patch+json',
      );
    }
    const r = await this.client.request('DELETE', apiPath('v1', 'pods', namespace, name), {
      gracePeriodSeconds: 0,
      preconditions: { uid: pod.metadata.uid },
    });
    if (r.status !== 200 && r.status !== 404 && r.status !== 409)
      throw new Error(`deleting ${keyOf(pod)}: ${r.status}`);
  }
}

const nodeOf = (pod: K8sObject): string | undefined => {
  const n = (pod.spec as Obj | undefined)?.nodeName;
  return typeof n === 'string' && n ? n : undefined;
};
