// The DaemonSet controller (pkg/controller/daemon): one pod per eligible node, each created
// with a required node affinity on that node's name so the scheduler binds it there; pods follow
// nodes as they come and go; template changes roll out (RollingUpdate) or wait for deletions
// (OnDelete); status as `kubectl rollout status ds` reads it. The decisions are in
// daemonSetPlan.ts and daemonSetNodes.ts; this file lists, watches and writes.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { TEMPLATE_GENERATION } from '../storage/templateGeneration.js';
import { targetNodeOf, withDaemonTolerations, withNodeAffinity } from './daemonSetNodes.js';
import { planDaemonSet, REVISION_HASH_LABEL } from './daemonSetPlan.js';
import { EventRecorder } from './events.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import { controllerOf, podTemplateHash, type Obj } from './podUtil.js';

/** How long a create or delete this controller made may stay unseen before it acts again. */
const EXPECTATION_MS = 5_000;

export class DaemonSetController {
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  /** "ds key|node" (a create) or pod key (a delete) → deadline: writes not yet back through the watch. */
  private readonly pending = new Map<string, number>();

  constructor(private readonly client: KubeClient) {
    this.events = new EventRecorder(client, 'daemonset-controller');
    this.queue = new WorkQueue((k) => this.sync(k));
    this.sets = new Informer(client, apiPath('apps/v1', 'daemonsets')).on((_t, o) => this.queue.add(keyOf(o)));
    this.pods = new Informer(client, apiPath('v1', 'pods')).on((_type, pod, old) => {
      for (const p of [pod, old]) {
        const ref = p && controllerOf(p, 'DaemonSet');
        if (ref) this.queue.add(`${p.metadata.namespace}/${ref.name}`);
      }
    });
    this.nodes = new Informer(client, apiPath('v1', 'nodes')).on(() => {
      for (const ds of this.sets.list()) this.queue.add(keyOf(ds));
    });
  }

  start(): void {
    for (const i of [this.sets, this.pods, this.nodes]) i.start();
  }
  stop(): void {
    this.queue.stop();
    for (const i of [this.sets, this.pods, this.nodes]) i.stop();
  }

  private waiting(key: string): boolean {
    const until = this.pending.get(key);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.pending.delete(key);
    return false;
  }

  private async sync(key: string): Promise<void> {
    await Promise.all([this.sets.hasSynced, this.pods.hasSynced, this.nodes.hasSynced]);
    const ds = this.sets.get(key);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const ns = ds.metadata.namespace!;
    const owned = this.pods
      .list()
      .filter((p) => p.metadata.namespace === ns && controllerOf(p, 'DaemonSet')?.uid === ds.metadata.uid);
    const now = Date.now();
    for (const [k, until] of this.pending) if (until <= now) this.pending.delete(k);
    for (const p of owned) {
      const node = targetNodeOf(p);
      if (node) this.pending.delete(`${key}|${node}`);
    }
    const template = ((ds.spec as Obj).template ?? {}) as Obj;
    const hash = podTemplateHash(template, Number(((ds.status ?? {}) as Obj).collisionCount ?? 0));
    const plan = planDaemonSet(ds, this.nodes.list(), owned, hash);
    let failure: unknown;
    for (const node of plan.create) {
      if (this.waiting(`${key}|${node}`)) continue;
      this.pending.set(`${key}|${node}`, Date.now() + EXPECTATION_MS);
      const r = await this.client.request('POST', apiPath('v1', 'pods', ns), this.podFor(ds, hash, node));
      if (r.status === 201) {
        void this.events.record(
          ds,
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${(r.body as K8sObject).metadata.name}`,
        );
      } else {
        this.pending.delete(`${key}|${node}`);
        const message = String((r.body as Obj).message ?? r.status);
        void this.events.record(ds, 'Warning', 'FailedCreate', `Error creating: ${message}`);
        failure = new Error(`creating a pod of ${key} on ${node}: ${r.status}`);
      }
    }
    for (const { pod, failed } of plan.delete) {
      const podKey = keyOf(pod);
      if (this.waiting(podKey)) continue;
      this.pending.set(podKey, Date.now() + EXPECTATION_MS);
      if (failed) {
        const node = String((pod.spec as Obj | undefined)?.nodeName ?? '');
        void this.events.record(
          ds,
          'Warning',
          'FailedDaemonPod',
          `Found failed daemon pod ${podKey} on node ${node}, will try to kill it`,
        );
      }
      const r = await this.client.request('DELETE', apiPath('v1', 'pods', ns, pod.metadata.name), {
        preconditions: { uid: pod.metadata.uid },
      });
      if (r.status === 200 || r.status === 202)
        void this.events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    }
    await this.writeStatus(ds, plan.status);
    if (failure) throw failure;
  }

  private podFor(ds: K8sObject, hash: string, node: string): Obj {
    const tmpl = ((ds.spec as Obj).template ?? {}) as Obj;
    const tm = (tmpl.metadata ?? {}) as Obj;
    const generation = ((ds.metadata.annotations ?? {}) as Record<string, string>)[TEMPLATE_GENERATION];
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata.name}-`,
        labels: {
          ...((tm.labels ?? {}) as Obj),
          [REVISION_HASH_LABEL]: hash,
          ...(generation ? { 'pod-template-generation': generation } : {}),
        },
        ...(tm.annotations ? { annotations: tm.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            name: ds.metadata.name,
            uid: ds.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: withNodeAffinity(withDaemonTolerations((tmpl.spec ?? {}) as Obj), node),
    };
  }

  private async writeStatus(ds: K8sObject, status: Obj): Promise<void> {
    const cur = (ds.status ?? {}) as Obj;
    if (Object.entries(status).every(([k, v]) => (cur[k] ?? 0) === (v ?? 0))) return;
    const r = await this.client.request(
      'PATCH',
      apiPath('apps/v1', 'daemonsets', ds.metadata.namespace, ds.metadata.name, 'status'),
      { status },
      'application/merge-patch+json',
    );
    if (r.status !== 200 && r.status !== 404) throw new Error(`status of ${keyOf(ds)}: ${r.status}`);
  }
}
