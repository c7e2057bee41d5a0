// The scheduler: a controller like kube-scheduler. It watches pods and nodes through the API,
// places each unscheduled pod (schedulerName default-scheduler) on a node that fits, and posts
// pods/binding. A pod that fits nowhere gets PodScheduled=False/Unschedulable with the message
// kube-scheduler writes and a FailedScheduling event; it is retried when nodes or pods change
// (kube-scheduler's "move on cluster event") and on a timer.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from '../controllers/events.js';
import { Informer, keyOf } from '../controllers/informer.js';
import { chooseNode, failedSchedulingMessage, nodeReady } from './predicates.js';
import { add, podRequests, ZERO, type Obj, type Resources } from './resources.js';

export interface SchedulerOptions {
  /** How often unschedulable pods are retried without a cluster event (kube-scheduler: up to 5 min). */
  retryIntervalMs?: number;
}

const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const isTerminal = (p: Obj): boolean => ['Succeeded', 'Failed'].includes(String(((p.status ?? {}) as Obj).phase));

export function wantsScheduling(p: K8sObject): boolean {
  const spec = (p.spec ?? {}) as Obj;
  return (
    !spec.nodeName &&
    !p.metadata.deletionTimestamp &&
    !isTerminal(p) &&
    (spec.schedulerName === undefined || spec.schedulerName === 'default-scheduler')
  );
}

export class Scheduler {
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly events: EventRecorder;
  /** Pods bound by us whose binding the informer has not shown yet (kube-scheduler's assume cache). */
  private readonly assumed = new Map<string, { node: string; requests: Resources }>();
  /** Last FailedScheduling message per pod, so an unchanged verdict is not re-reported on every retry. */
  private readonly lastMessage = new Map<string, { message: string; at: number }>();
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.pods = new Informer(client, '/api/v1/pods');
    this.nodes = new Informer(client, '/api/v1/nodes');
    this.events = new EventRecorder(client, 'default-scheduler');
    this.pods.on((type, o) => {
      if (type === 'DELETED') {
        this.lastMessage.delete(keyOf(o));
        this.assumed.delete(keyOf(o));
      }
      if ((o.spec as Obj | undefined)?.nodeName) this.assumed.delete(keyOf(o));
      this.kick();
    });
    this.nodes.on(() => this.kick());
  }

  start(): void {
    this.pods.start();
    this.nodes.start();
    const every = this.opts.retryIntervalMs ?? 5_000;
    this.timer = setInterval(() => this.kick(), every);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.pods.stop();
    this.nodes.stop();
  }

  /** Runs a scheduling pass now, or right after the one in progress. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(
      () =>
        void this.pass().finally(() => {
          this.running = false;
          if (this.again) {
            this.again = false;
            this.kick();
          }
        }),
    );
  }

  private requestedByNode(): Map<string, Resources> {
    const m = new Map<string, Resources>();
    for (const p of this.pods.list()) {
      const node = (p.spec as Obj | undefined)?.nodeName;
      if (typeof node !== 'string' || !node || isTerminal(p)) continue;
      m.set(node, add(m.get(node) ?? ZERO, podRequests(p)));
    }
    for (const a of this.assumed.values()) m.set(a.node, add(m.get(a.node) ?? ZERO, a.requests));
    return m;
  }

  private async pass(): Promise<void> {
    const pending = this.pods
      .list()
      .filter((p) => wantsScheduling(p) && !this.assumed.has(keyOf(p)))
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    if (!pending.length) return;
    // One snapshot of the nodes per pass: a node that turns Ready mid-pass must not drop out of
    // both the ready list and the not-ready count (which left "0/3 nodes are available: .").
    const live = this.nodes.list().filter((n) => !n.metadata.deletionTimestamp);
    const nodes = live.filter(nodeReady);
    const notReady = live
      .filter((n) => !nodeReady(n))
      .map(() => ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
    const requested = this.requestedByNode();
    const total = live.length;
    for (const pod of pending) {
      if (this.stopped) return;
      const { node, reasons } = chooseNode(pod, nodes, (n) => requested.get(n) ?? ZERO);
      const key = keyOf(pod);
      if (node) {
        const name = String((node.metadata as Obj).name);
        const requests = podRequests(pod);
        this.assumed.set(key, { node: name, requests });
        requested.set(name, add(requested.get(name) ?? ZERO, requests));
        await this.bind(pod, name);
        continue;
      }
      // Nodes that are not Ready count among the total and are reported as kube-scheduler does.
      await this.unschedulable(pod, failedSchedulingMessage(total, [...reasons, ...notReady]));
    }
  }

  private async bind(pod: K8sObject, node: string): Promise<void> {
    const { namespace, name } = pod.metadata;
    try {
      const r = await this.client.request('POST', apiPath('v1', 'pods', namespace, name, 'binding'), {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      if (r.status >= 300) {
        this.assumed.delete(keyOf(pod));
        return;
      }
      this.lastMessage.delete(keyOf(pod));
      void this.events.record(
        { ...pod, kind: 'Pod', apiVersion: 'v1' },
        'Normal',
        'Scheduled',
        `Successfully assigned ${namespace}/${name} to ${node}`,
      );
    } catch {
      this.assumed.delete(keyOf(pod));
    }
  }

  private async unschedulable(pod: K8sObject, message: string): Promise<void> {
    const key = keyOf(pod);
    const last = this.lastMessage.get(key);
    // Re-report an unchanged verdict only now and then (the event correlator would aggregate it).
    if (last && last.message === message && Date.now() - last.at < 30_000) return;
    this.lastMessage.set(key, { message, at: Date.now() });
    const conds = ((((pod.status ?? {}) as Obj).conditions ?? []) as Obj[]).filter((c) => c.type !== 'PodScheduled');
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: nowIso(),
    };
    try {
      await this.client.request(
        'PATCH',
        apiPath('v1', 'pods', pod.metadata.namespace, pod.metadata.name, 'status'),
        { status: { conditions: [...conds, condition] } },
        'application/merge-patch+json',
      );
    } catch {
      /* retried on the next pass */
    }
    await this.events.record({ ...pod, kind: 'Pod', apiVersion: 'v1' }, 'Warning', 'FailedScheduling', message);
  }
}
