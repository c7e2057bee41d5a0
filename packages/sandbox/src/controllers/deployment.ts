// The Deployment controller (pkg/controller/deployment), reduced to what rollouts need: one
// ReplicaSet per pod template (named <deployment>-<pod-template-hash>), RollingUpdate within
// maxSurge/maxUnavailable or Recreate, revision annotations, history cleanup, and the status
// and conditions that `kubectl rollout status` and `helm --wait` read.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from './events.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import { canonical, controllerOf, podTemplateHash, scaledValue, type Obj } from './podUtil.js';

const HASH = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const MERGE = 'application/merge-patch+json';
const nowTs = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const replicasOf = (rs: K8sObject): number => Number((rs.spec as Obj).replicas ?? 0);
const statusNum = (o: K8sObject, k: string): number => Number(((o.status ?? {}) as Obj)[k] ?? 0);
const revisionOf = (o: K8sObject): number => Number(((o.metadata.annotations ?? {}) as Obj)[REVISION] ?? 0);

function withoutHash(tmpl: unknown): string {
  const t = structuredClone((tmpl ?? {}) as Obj);
  const labels = ((t.metadata as Obj | undefined)?.labels ?? undefined) as Obj | undefined;
  if (labels) delete labels[HASH];
  return canonical(t);
}

export class DeploymentController {
  private readonly deployments: Informer;
  private readonly sets: Informer;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;

  constructor(private readonly client: KubeClient) {
    this.events = new EventRecorder(client, 'deployment-controller');
    this.queue = new WorkQueue((k) => this.sync(k));
    this.deployments = new Informer(client, apiPath('apps/v1', 'deployments')).on((_t, d) => this.queue.add(keyOf(d)));
    this.sets = new Informer(client, apiPath('apps/v1', 'replicasets')).on((_t, rs) => {
      const ref = controllerOf(rs, 'Deployment');
      if (ref) this.queue.add(`${rs.metadata.namespace}/${ref.name}`);
    });
  }

  start(): void {
    this.deployments.start();
    this.sets.start();
  }
  stop(): void {
    this.queue.stop();
    this.deployments.stop();
    this.sets.stop();
  }

  private async scale(d: K8sObject, rs: K8sObject, to: number): Promise<void> {
    const from = replicasOf(rs);
    if (from === to) return;
    const r = await this.client.request(
      'PATCH',
      apiPath('apps/v1', 'replicasets', rs.metadata.namespace, rs.metadata.name),
      {
        metadata: {
          annotations: { 'deployment.kubernetes.io/desired-replicas': String((d.spec as Obj).replicas ?? 1) },
        },
        spec: { replicas: to },
      },
      MERGE,
    );
    if (r.status !== 200) throw new Error(`scaling ${keyOf(rs)}: ${r.status}`);
    (rs.spec as Obj).replicas = to;
    void this.events.record(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
    );
  }

  private async sync(key: string): Promise<void> {
    await Promise.all([this.deployments.hasSynced, this.sets.hasSynced]);
    const d = this.deployments.get(key);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = d.spec as Obj;
    const ns = d.metadata.namespace!;
    const desired = Number(spec.replicas ?? 1);
    const all = this.sets
      .list()
      .filter((rs) => rs.metadata.namespace === ns && controllerOf(rs, 'Deployment')?.uid === d.metadata.uid)
      .map((rs) => structuredClone(rs));
    const want = withoutHash(spec.template);
    let newRS = all.find((rs) => withoutHash((rs.spec as Obj).template) === want);
    const old = all
      .filter((rs) => rs !== newRS)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    const strategy = (spec.strategy ?? {}) as Obj;
    const ru = (strategy.rollingUpdate ?? {}) as Obj;
    let maxSurge = scaledValue(ru.maxSurge ?? '25%', desired, true);
    let maxUnavailable = scaledValue(ru.maxUnavailable ?? '25%', desired, false);
    if (strategy.type === 'Recreate') {
      maxSurge = 0;
      maxUnavailable = desired;
    }
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    let created = false;

    if (!newRS && !spec.paused) {
      const hash = podTemplateHash(spec.template, Number((d.status as Obj | undefined)?.collisionCount ?? 0));
      const tmpl = structuredClone(spec.template as Obj);
      const tm = (tmpl.metadata ?? (tmpl.metadata = {})) as Obj;
      tm.labels = { ...((tm.labels ?? {}) as Obj), [HASH]: hash };
      const selector = structuredClone((spec.selector ?? {}) as Obj);
      selector.matchLabels = { ...((selector.matchLabels ?? {}) as Obj), [HASH]: hash };
      const currentTotal = all.reduce((n, rs) => n + replicasOf(rs), 0);
      const initial =
        strategy.type === 'Recreate'
          ? old.some(
              (rs) => replicasOf(rs) > 0 || statusNum(rs, 'replicas') > 0 || statusNum(rs, 'terminatingReplicas') > 0,
            )
            ? 0
            : desired
          : old.length === 0
            ? desired
            : Math.max(0, Math.min(desired, desired + maxSurge - currentTotal));
      const revision = Math.max(0, ...all.map(revisionOf)) + 1;
      const body = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: ns,
          labels: tm.labels,
          annotations: {
            [REVISION]: String(revision),
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: d.metadata.name,
              uid: d.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { replicas: initial, minReadySeconds: spec.minReadySeconds ?? 0, selector, template: tmpl },
      };
      const r = await this.client.request<K8sObject>('POST', apiPath('apps/v1', 'replicasets', ns), body);
      if (r.status !== 201) throw new Error(`creating replica set for ${key}: ${r.status}`);
      newRS = r.body;
      created = true;
      if (initial > 0)
        void this.events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${newRS.metadata.name} from 0 to ${initial}`,
        );
      await this.client.request(
        'PATCH',
        apiPath('apps/v1', 'deployments', ns, d.metadata.name),
        { metadata: { annotations: { [REVISION]: String(revision) } } },
        MERGE,
      );
    }

    if (newRS && !created) {
      if (spec.paused) {
        if (old.every((rs) => replicasOf(rs) === 0)) await this.scale(d, newRS, desired);
      } else if (strategy.type === 'Recreate') {
        for (const rs of old) await this.scale(d, rs, 0);
        // As the real controller (oldPodsRunning): an old pod still terminating holds the new
        // one back, so a Recreate never runs the old and the new side by side.
        const gone = (rs: K8sObject) => statusNum(rs, 'replicas') === 0 && statusNum(rs, 'terminatingReplicas') === 0;
        if (old.every(gone)) await this.scale(d, newRS, desired);
      } else {
        await this.rollingStep(d, newRS, old, desired, maxSurge, maxUnavailable);
      }
      if (revisionOf(newRS) > 0 && revisionOf(d) !== revisionOf(newRS)) {
        await this.client.request(
          'PATCH',
          apiPath('apps/v1', 'deployments', ns, d.metadata.name),
          { metadata: { annotations: { [REVISION]: String(revisionOf(newRS)) } } },
          MERGE,
        );
      }
    }
    await this.cleanup(d, old);
    await this.writeStatus(d, newRS, old, desired, maxUnavailable, created);
  }

  private async rollingStep(
    d: K8sObject,
    newRS: K8sObject,
    old: K8sObject[],
    desired: number,
    maxSurge: number,
    maxUnavailable: number,
  ): Promise<void> {
    const all = [newRS, ...old];
    const total = all.reduce((n, rs) => n + replicasOf(rs), 0);
    // Scale up the new ReplicaSet within maxSurge.
    if (replicasOf(newRS) > desired) await this.scale(d, newRS, desired);
    else if (replicasOf(newRS) < desired) {
      const room = desired + maxSurge - total;
      if (room > 0) await this.scale(d, newRS, replicasOf(newRS) + Math.min(room, desired - replicasOf(newRS)));
    }
    // Scale down old ones without going below desired - maxUnavailable available pods.
    const minAvailable = desired - maxUnavailable;
    const allCount = all.reduce((n, rs) => n + replicasOf(rs), 0);
    const newUnavailable = replicasOf(newRS) - statusNum(newRS, 'availableReplicas');
    let budget = allCount - minAvailable - newUnavailable;
    if (budget <= 0) return;
    for (const rs of old) {
      if (budget <= 0) break;
      const unhealthy = replicasOf(rs) - statusNum(rs, 'availableReplicas');
      if (unhealthy <= 0) continue;
      const n = Math.min(budget, unhealthy);
      await this.scale(d, rs, replicasOf(rs) - n);
      budget -= n;
    }
    const available = all.reduce((n, rs) => n + statusNum(rs, 'availableReplicas'), 0);
    let down = available - minAvailable;
    for (const rs of old) {
      if (down <= 0) break;
      const n = Math.min(replicasOf(rs), down);
      if (n > 0) {
        await this.scale(d, rs, replicasOf(rs) - n);
        down -= n;
      }
    }
  }

  private async cleanup(d: K8sObject, old: K8sObject[]): Promise<void> {
    const limit = Number((d.spec as Obj).revisionHistoryLimit ?? 10);
    const idle = old.filter(
      (rs) => replicasOf(rs) === 0 && statusNum(rs, 'replicas') === 0 && !rs.metadata.deletionTimestamp,
    );
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      await this.client.request('DELETE', apiPath('apps/v1', 'replicasets', rs.metadata.namespace, rs.metadata.name));
    }
  }

  private async writeStatus(
    d: K8sObject,
    newRS: K8sObject | undefined,
    old: K8sObject[],
    desired: number,
    maxUnavailable: number,
    created: boolean,
  ): Promise<void> {
    const all = newRS ? [newRS, ...old] : old;
    const sum = (k: string): number => all.reduce((n, rs) => n + statusNum(rs, k), 0);
    const specTotal = all.reduce((n, rs) => n + replicasOf(rs), 0);
    const available = sum('availableReplicas');
    const updated = newRS ? statusNum(newRS, 'replicas') : 0;
    const prev = (d.status ?? {}) as Obj;
    const prevConds = (prev.conditions ?? []) as Obj[];
    const ts = nowTs();
    const cond = (type: string, status: string, reason: string, message: string): Obj => {
      const p = prevConds.find((c) => c.type === type);
      const same = p && p.status === status && p.reason === reason && p.message === message;
      if (same) return p;
      return {
        type,
        status,
        lastUpdateTime: ts,
        lastTransitionTime: p && p.status === status ? p.lastTransitionTime : ts,
        reason,
        message,
      };
    };
    const spec = d.spec as Obj;
    const name = newRS?.metadata.name ?? '';
    const complete =
      newRS &&
      updated === desired &&
      sum('replicas') === desired &&
      available === desired &&
      replicasOf(newRS) === desired;
    const progressing = spec.paused
      ? cond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused')
      : created
        ? cond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`)
        : complete
          ? cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${name}" has successfully progressed.`)
          : cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${name}" is progressing.`);
    const availableCond =
      available >= desired - maxUnavailable
        ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.');
    const status: Obj = {
      observedGeneration: d.metadata.generation,
      replicas: sum('replicas'),
      updatedReplicas: updated,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, specTotal - available),
      terminatingReplicas: sum('terminatingReplicas'),
      conditions: [availableCond, progressing],
      ...(prev.collisionCount !== undefined ? { collisionCount: prev.collisionCount } : {}),
    };
    // Zero counts are omitted, as Go's omitempty writes them; a merge patch removes them with null.
    const patch: Obj = { ...status };
    for (const k of [
      'replicas',
      'updatedReplicas',
      'readyReplicas',
      'availableReplicas',
      'unavailableReplicas',
      'terminatingReplicas',
    ]) {
      if (status[k] === 0) {
        delete status[k];
        patch[k] = null;
      }
    }
    if (canonical(status) === canonical(prev)) return;
    const r = await this.client.request(
      'PATCH',
      apiPath('apps/v1', 'deployments', d.metadata.namespace, d.metadata.name, 'status'),
      { status: patch },
      MERGE,
    );
    if (r.status !== 200 && r.status !== 404) throw new Error(`status of ${keyOf(d)}: ${r.status}`);
  }
}
