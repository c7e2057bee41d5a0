// The node autoscaler: a controller behaving observably like the Kubernetes cluster
// autoscaler. Each scan it reads pods, nodes and PodDisruptionBudgets from its informers,
// scales groups up for unschedulable pods (TriggeredScaleUp / NotTriggerScaleUp events on the
// pods), brings groups up to their minimum, and removes nodes that stayed unneeded past the
// scale-down delay (cordon, evict through pods/eviction, then delete). Nodes come and go
// through a NodeProvider, its "cloud provider".
import type { NodeGroupSettings } from '../config/clusterConfig.js';
import { randomBytes } from 'node:crypto';
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from '../controllers/events.js';
import { Informer, keyOf } from '../controllers/informer.js';
import { nodeReady } from '../scheduler/predicates.js';
import { add, podRequests, ZERO, type Obj } from '../scheduler/resources.js';
import { planScaleUp, type GroupState, type SimNode } from './scaleUp.js';
import { isDaemonSetPod, scaleDownBlocker } from './scaleDown.js';

export const NODE_GROUP_LABEL = 'longshore.io/node-group';

/** A node group as the autoscaler sees it: the validated settings of the sandbox config. */
export type NodeGroupConfig = NodeGroupSettings;

export interface NodeProvider {
  create(group: NodeGroupConfig, name: string): Promise<void>;
  remove(name: string): Promise<void>;
}

export interface AutoscalerOptions {
  scanIntervalMs: number;
  scaleDownUnneededMs: number;
  scaleDownUtilizationThreshold: number;
}

/** The Node a group's nodes will look like, for simulations (cluster-autoscaler's template node). */
export function templateNode(g: NodeGroupConfig): Obj {
  const resources = { cpu: g.cpu, memory: g.memory, pods: String(g.pods) };
  return {
    metadata: {
      name: `template-${g.name}`,
      labels: { ...g.labels, [NODE_GROUP_LABEL]: g.name, 'kubernetes.io/os': 'linux' },
    },
    spec: g.taints.length ? { taints: g.taints } : {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const isTerminal = (p: Obj): boolean => ['Succeeded', 'Failed'].includes(String(((p.status ?? {}) as Obj).phase));
const unschedulable = (p: K8sObject): boolean =>
  !((p.spec ?? {}) as Obj).nodeName &&
  !p.metadata.deletionTimestamp &&
  !isTerminal(p) &&
  ((((p.status ?? {}) as Obj).conditions ?? []) as Obj[]).some(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );

export class NodeAutoscaler {
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly pdbs: Informer;
  private readonly events: EventRecorder;
  /** Nodes asked of the provider and not yet Ready: name -> group. */
  private readonly provisioning = new Map<string, string>();
  private readonly unneededSince = new Map<string, number>();
  private readonly reported = new Map<string, { message: string; at: number }>();
  private readonly removing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  private stopped = false;
  private synced = false;

  constructor(
    private readonly client: KubeClient,
    private readonly groups: NodeGroupConfig[],
    private readonly provider: NodeProvider,
    private readonly opts: AutoscalerOptions,
  ) {
    this.pods = new Informer(client, '/api/v1/pods');
    this.nodes = new Informer(client, '/api/v1/nodes');
    this.pdbs = new Informer(client, '/apis/policy/v1/poddisruptionbudgets');
    this.events = new EventRecorder(client, 'cluster-autoscaler');
  }

  start(): void {
    for (const i of [this.pods, this.nodes, this.pdbs]) i.start();
    // Decide nothing before the first lists: an empty cache would look like a cluster with no nodes.
    void Promise.all([this.pods.hasSynced, this.nodes.hasSynced, this.pdbs.hasSynced]).then(() => {
      this.synced = true;
    });
    this.timer = setInterval(() => void this.scan(), this.opts.scanIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const i of [this.pods, this.nodes, this.pdbs]) i.stop();
  }

  private groupNodes(group: string): K8sObject[] {
    return this.nodes
      .list()
      .filter(
        (n) =>
          ((n.metadata.labels ?? {}) as Record<string, string>)[NODE_GROUP_LABEL] === group &&
          !this.removing.has(n.metadata.name),
      );
  }

  private target(g: NodeGroupConfig): number {
    const existing = new Set(this.groupNodes(g.name).map((n) => n.metadata.name));
    return existing.size + [...this.provisioning].filter(([n, grp]) => grp === g.name && !existing.has(n)).length;
  }

  private provision(g: NodeGroupConfig, count: number): void {
    for (let i = 0; i < count; i++) {
      const name = `${g.name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
      this.provisioning.set(name, g.name);
      const t = setTimeout(() => {
        if (this.stopped) return;
        this.provider.create(g, name).catch(() => this.provisioning.delete(name));
      }, g.provisioningDelayMs);
      t.unref();
    }
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.stopped || !this.synced) return;
    this.scanning = true;
    try {
      for (const [name] of this.provisioning) {
        const n = this.nodes.get(name);
        if (n && nodeReady(n)) this.provisioning.delete(name);
      }
      for (const g of this.groups) {
        const t = this.target(g);
        if (t < g.min) this.provision(g, g.min - t);
      }
      await this.scaleUp();
      await this.scaleDown();
    } finally {
      this.scanning = false;
    }
  }

  private simNodes(): SimNode[] {
    const requested = new Map<string, typeof ZERO>();
    for (const p of this.pods.list()) {
      const node = ((p.spec ?? {}) as Obj).nodeName;
      if (typeof node === 'string' && node && !isTerminal(p))
        requested.set(node, add(requested.get(node) ?? ZERO, podRequests(p)));
    }
    const ready: SimNode[] = this.nodes
      .list()
      .filter((n) => nodeReady(n) && !this.removing.has(n.metadata.name) && !((n.spec ?? {}) as Obj).unschedulable)
      .map((n) => ({ node: n, requested: requested.get(n.metadata.name) ?? ZERO }));
    const upcoming: SimNode[] = [...this.provisioning]
      .filter(([n]) => !this.nodes.get(n) || !nodeReady(this.nodes.get(n)!))
      .flatMap(([, grp]) => {
        const g = this.groups.find((x) => x.name === grp);
        return g ? [{ node: templateNode(g), requested: ZERO, group: g.name }] : [];
      });
    return [...ready, ...upcoming];
  }

  private async report(pod: K8sObject, reason: string, message: string): Promise<void> {
    const key = keyOf(pod);
    const last = this.reported.get(key);
    if (last && last.message === message && Date.now() - last.at < 60_000) return;
    this.reported.set(key, { message, at: Date.now() });
    await this.events.record({ ...pod, kind: 'Pod', apiVersion: 'v1' }, 'Normal', reason, message);
  }

  private async scaleUp(): Promise<void> {
    const pending = this.pods
      .list()
      .filter((p) => unschedulable(p) && !isDaemonSetPod(p))
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    for (const k of this.reported.keys()) if (!this.pods.get(k)) this.reported.delete(k);
    if (!pending.length) return;
    const groups: GroupState[] = this.groups.map((g) => ({
      name: g.name,
      min: g.min,
      max: g.max,
      target: this.target(g),
      template: templateNode(g),
    }));
    const plan = planScaleUp(pending, groups, this.simNodes());
    for (const [name, n] of plan.increases)
      this.provision(
        this.groups.find((g) => g.name === name)!,
        n,
      );
    for (const pod of pending) {
      const key = keyOf(pod);
      const t = plan.triggered.get(key);
      if (t) await this.report(pod, 'TriggeredScaleUp', t);
      const nt = plan.notTriggered.get(key);
      if (nt) await this.report(pod, 'NotTriggerScaleUp', nt);
    }
  }

  private async scaleDown(): Promise<void> {
    if (this.provisioning.size) return; // cluster-autoscaler waits for a scale-up to settle first
    const all = this.pods.list();
    const pdbs = this.pdbs.list();
    const sims = this.simNodes();
    const now = Date.now();
    for (const g of this.groups) {
      let size = this.groupNodes(g.name).length;
      for (const node of this.groupNodes(g.name)) {
        const name = node.metadata.name;
        const onNode = all.filter((p) => ((p.spec ?? {}) as Obj).nodeName === name);
        const others = sims.filter((s) => ((s.node.metadata ?? {}) as Obj).name !== name);
        const blocker =
          size <= g.min
            ? 'group at minimum size'
            : scaleDownBlocker(node, onNode, pdbs, all, others, this.opts.scaleDownUtilizationThreshold);
        if (blocker) {
          this.unneededSince.delete(name);
          continue;
        }
        const since = this.unneededSince.get(name) ?? now;
        this.unneededSince.set(name, since);
        if (now - since < this.opts.scaleDownUnneededMs) continue;
        if (await this.drainAndRemove(node, onNode)) size--;
      }
    }
  }

  private async drainAndRemove(node: K8sObject, pods: K8sObject[]): Promise<boolean> {
    const name = node.metadata.name;
    this.removing.add(name);
    const taint = {
      key: 'ToBeDeletedByClusterAutoscaler',
      value: String(Math.floor(Date.now() / 1000)),
      effect: 'NoSchedule',
    };
    const taints = [...((((node.spec ?? {}) as Obj).taints ?? []) as Obj[]), taint];
    await this.client
      .request(
        'PATCH',
        apiPath('v1', 'nodes', undefined, name),
        { spec: { unschedulable: true, taints } },
        'application/merge-patch+json',
      )
      .catch(() => undefined);
    void this.events.record(
      { ...node, kind: 'Node', apiVersion: 'v1' },
      'Normal',
      'ScaleDown',
      'marked the node as toBeDeleted/unschedulable',
    );
    // DaemonSet pods are not evicted: they go with the node (the pod GC deletes them).
    for (const p of pods.filter((x) => !isTerminal(x) && !isDaemonSetPod(x))) {
      const r = await this.client
        .request('POST', apiPath('v1', 'pods', p.metadata.namespace, p.metadata.name, 'eviction'), {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
        })
        .catch(() => ({ status: 0 }));
      if (r.status !== 201 && r.status !== 200 && r.status !== 404) {
        // A budget or an error stopped the drain: give the node back (cluster-autoscaler does the same).
        await this.client
          .request(
            'PATCH',
            apiPath('v1', 'nodes', undefined, name),
            { spec: { unschedulable: null, taints: taints.slice(0, -1) } },
            'application/merge-patch+json',
          )
          .catch(() => undefined);
        this.removing.delete(name);
        this.unneededSince.delete(name);
        return false;
      }
      void this.events.record(
        { ...p, kind: 'Pod', apiVersion: 'v1' },
        'Normal',
        'ScaleDown',
        'deleting pod for node scale down',
      );
    }
    await this.provider.remove(name).catch(() => undefined);
    this.unneededSince.delete(name);
    this.removing.delete(name);
    return true;
  }
}
