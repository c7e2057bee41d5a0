// The ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas pods that match
// the template and are owned by the ReplicaSet, deletes the surplus (unscheduled, pending and
// not-ready pods first, newest first), and writes status. "Expectations" stop it from creating
// twice while its own creations have not yet come back through the watch. As in kube, the same
// implementation runs ReplicationControllers (replicationController.ts): only the kind differs.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from './events.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import { controllerOf, isPodActive, isPodAvailable, isPodReady, type Obj } from './podUtil.js';

/** The kind a ReplicaController keeps replicas of. */
export interface ReplicatedKind {
  apiVersion: string;
  resource: string;
  kind: string;
  /** The event source, as kube-controller-manager names the controller. */
  component: string;
  /** Status counters of this kind beyond replicas/fullyLabeled/ready/available/observedGeneration. */
  terminatingReplicas: boolean;
}

const REPLICA_SET: ReplicatedKind = {
  apiVersion: 'apps/v1',
  resource: 'replicasets',
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  terminatingReplicas: true,
};

export class ReplicaController {
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  /** rs key → pods created or deleted but not yet observed, with a deadline. */
  private readonly expectations = new Map<string, { adds: number; dels: Set<string>; until: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly target: ReplicatedKind,
  ) {
    this.events = new EventRecorder(client, target.component);
    this.queue = new WorkQueue((k) => this.sync(k));
    this.sets = new Informer(client, apiPath(target.apiVersion, target.resource)).on((_t, o) =>
      this.queue.add(keyOf(o)),
    );
    this.pods = new Informer(client, apiPath('v1', 'pods')).on((type, pod, old) => {
      for (const p of [pod, old]) {
        const ref = p && controllerOf(p, target.kind);
        if (!ref) continue;
        const rsKey = `${p.metadata.namespace}/${ref.name}`;
        const exp = this.expectations.get(rsKey);
        if (exp && p === pod) {
          if (type === 'ADDED') exp.adds = Math.max(0, exp.adds - 1);
          if (type === 'DELETED' || pod.metadata.deletionTimestamp) exp.dels.delete(keyOf(pod));
        }
        this.queue.add(rsKey);
      }
    });
  }

  start(): void {
    this.sets.start();
    this.pods.start();
  }
  stop(): void {
    this.queue.stop();
    this.sets.stop();
    this.pods.stop();
  }

  private async sync(key: string): Promise<void> {
    await Promise.all([this.sets.hasSynced, this.pods.hasSynced]);
    const rs = this.sets.get(key);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const exp = this.expectations.get(key);
    if (exp && (exp.adds > 0 || exp.dels.size > 0) && Date.now() < exp.until) return; // the watch will bring us back
    const spec = rs.spec as Obj;
    const ns = rs.metadata.namespace!;
    const owned = this.pods
      .list()
      .filter((p) => p.metadata.namespace === ns && controllerOf(p, this.target.kind)?.uid === rs.metadata.uid);
    const active = owned.filter(isPodActive);
    const desired = Number(spec.replicas ?? 1);
    const diff = desired - active.length;
    if (!rs.metadata.deletionTimestamp && diff !== 0) {
      if (diff > 0) {
        const n = Math.min(diff, 500);
        this.expectations.set(key, { adds: n, dels: new Set(), until: Date.now() + 5_000 });
        for (let i = 0; i < n; i++) {
          const r = await this.client.request('POST', apiPath('v1', 'pods', ns), this.podFor(rs));
          if (r.status === 201) {
            const name = (r.body as K8sObject).metadata.name;
            void this.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
          } else {
            const e = this.expectations.get(key);
            if (e) e.adds = Math.max(0, e.adds - 1);
            void this.events.record(
              rs,
              'Warning',
              'FailedCreate',
              `Error creating: ${String((r.body as Obj).message ?? r.status)}`,
            );
            throw new Error(`creating pod for ${key}: ${r.status}`);
          }
        }
      } else {
        const victims = [...active].sort(deletionOrder).slice(0, -diff);
        this.expectations.set(key, { adds: 0, dels: new Set(victims.map(keyOf)), until: Date.now() + 5_000 });
        for (const p of victims) {
          const r = await this.client.request('DELETE', apiPath('v1', 'pods', ns, p.metadata.name));
          if (r.status === 200 || r.status === 404)
            void this.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        }
      }
    }
    await this.writeStatus(rs, owned);
  }

  private podFor(rs: K8sObject): Obj {
    const tmpl = ((rs.spec as Obj).template ?? {}) as Obj;
    const tm = (tmpl.metadata ?? {}) as Obj;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        ...(tm.labels ? { labels: tm.labels } : {}),
        ...(tm.annotations ? { annotations: tm.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: this.target.apiVersion,
            kind: this.target.kind,
            name: rs.metadata.name,
            uid: rs.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: tmpl.spec,
    };
  }

  private async writeStatus(rs: K8sObject, owned: K8sObject[]): Promise<void> {
    const active = owned.filter(isPodActive);
    const minReady = Number((rs.spec as Obj).minReadySeconds ?? 0);
    const tmplLabels = ((((rs.spec as Obj).template as Obj | undefined)?.metadata as Obj | undefined)?.labels ??
      {}) as Record<string, string>;
    const status: Obj = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) =>
        Object.entries(tmplLabels).every(
          ([k, v]) => (p.metadata.labels as Record<string, string> | undefined)?.[k] === v,
        ),
      ).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, minReady)).length,
      ...(this.target.terminatingReplicas
        ? { terminatingReplicas: owned.filter((p) => p.metadata.deletionTimestamp).length }
        : {}),
      observedGeneration: rs.metadata.generation,
    };
    const cur = (rs.status ?? {}) as Obj;
    if (Object.entries(status).every(([k, v]) => (cur[k] ?? 0) === (v ?? 0))) return;
    const r = await this.client.request(
      'PATCH',
      apiPath(this.target.apiVersion, this.target.resource, rs.metadata.namespace, rs.metadata.name, 'status'),
      { status },
      'application/merge-patch+json',
    );
    if (r.status !== 200 && r.status !== 404) throw new Error(`status of ${keyOf(rs)}: ${r.status}`);
  }
}

export class ReplicaSetController extends ReplicaController {
  constructor(client: KubeClient) {
    super(client, REPLICA_SET);
  }
}

/** controller.ActivePods ordering: unassigned < assigned, Pending < Unknown < Running, not ready < ready, newer first. */
function deletionOrder(a: K8sObject, b: K8sObject): number {
  const assigned = (p: K8sObject): number => ((p.spec as Obj | undefined)?.nodeName ? 1 : 0);
  const phase = (p: K8sObject): number =>
    (({ Pending: 0, Unknown: 1, Running: 2 }) as Record<string, number>)[
      String((p.status as Obj | undefined)?.phase)
    ] ?? 0;
  const ready = (p: K8sObject): number => (isPodReady(p) ? 1 : 0);
  return (
    assigned(a) - assigned(b) ||
    phase(a) - phase(b) ||
    ready(a) - ready(b) ||
    String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? ''))
  );
}
