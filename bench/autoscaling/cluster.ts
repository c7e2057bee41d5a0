// The cluster: one node group scaled by an autoscaler that behaves as the cluster autoscaler (and
// the sandbox's) does, and a scheduler that places pods by their requests. The scheduler scores
// nodes least-requested, as kube-scheduler's default NodeResourcesFit does and the sandbox's
// scheduler does: the node left with the most free CPU and memory share wins, ties by name.
// Scale-up packs the unschedulable pods, oldest first, first-fit onto the nodes being provisioned
// and then onto new nodes of the group; scale-down removes a node that has stayed empty past the
// delay (a script pod is a bare pod, which blocks scale-down of its node, as in the autoscaler),
// and waits while any node is still being provisioned.
import { Gi } from './usageProfile.js';

export interface NodeGroup {
  /** Allocatable CPU and memory of one node (capacity less system reservations). */
  cpuMillis: number;
  memoryBytes: number;
  maxPods: number;
  minNodes: number;
  maxNodes: number;
  /** From the scale-up decision to the node being Ready (a cloud VM's boot and join). */
  provisioningSeconds: number;
}

export interface AutoscalerSettings {
  scanIntervalSeconds: number;
  /** How long a node stays unneeded (here: empty) before it is removed. */
  scaleDownUnneededSeconds: number;
}

export interface ClusterSettings {
  group: NodeGroup;
  autoscaler: AutoscalerSettings;
}

/** A 4-vCPU, 16 GiB node with a cloud's usual reservations; the cluster autoscaler's default delays. */
export const DEFAULT_CLUSTER: ClusterSettings = {
  group: { cpuMillis: 3920, memoryBytes: 13 * Gi, maxPods: 110, minNodes: 0, maxNodes: 40, provisioningSeconds: 90 },
  autoscaler: { scanIntervalSeconds: 10, scaleDownUnneededSeconds: 600 },
};

export interface Requests {
  cpuMillis: number;
  memoryBytes: number;
}

export interface Schedulable {
  requests: Requests;
}

export class SimNode<P extends Schedulable> {
  readonly pods = new Set<P>();
  requestedCpu = 0;
  requestedMemory = 0;
  /** Set at the first autoscaler scan that found the node empty. */
  emptySince: number | undefined;

  constructor(
    readonly name: string,
    readonly readyAt: number,
    private readonly group: NodeGroup,
  ) {}

  fits(r: Requests): boolean {
    return (
      this.pods.size < this.group.maxPods &&
      this.requestedCpu + r.cpuMillis <= this.group.cpuMillis &&
      this.requestedMemory + r.memoryBytes <= this.group.memoryBytes
    );
  }

  /** kube-scheduler's LeastAllocated score: the free share of CPU and memory left after placing. */
  score(r: Requests): number {
    return (
      (this.group.cpuMillis - this.requestedCpu - r.cpuMillis) / this.group.cpuMillis +
      (this.group.memoryBytes - this.requestedMemory - r.memoryBytes) / this.group.memoryBytes
    );
  }

  add(p: P): void {
    this.pods.add(p);
    this.requestedCpu += p.requests.cpuMillis;
    this.requestedMemory += p.requests.memoryBytes;
  }

  remove(p: P): void {
    if (!this.pods.delete(p)) return;
    this.requestedCpu -= p.requests.cpuMillis;
    this.requestedMemory -= p.requests.memoryBytes;
  }
}

export interface NodeLifetime {
  readyAt: number;
  removedAt: number;
}

export class Cluster<P extends Schedulable> {
  readonly ready: SimNode<P>[] = [];
  /** Times at which the nodes being provisioned turn Ready. */
  private provisioning: number[] = [];
  readonly lifetimes: NodeLifetime[] = [];
  scaleUps = 0;
  peakNodes = 0;
  private made = 0;

  constructor(readonly settings: ClusterSettings) {}

  get provisioningCount(): number {
    return this.provisioning.length;
  }

  /** Nodes whose provisioning is done by `now` join. */
  admitReady(now: number): void {
    const due = this.provisioning.filter((t) => t <= now);
    this.provisioning = this.provisioning.filter((t) => t > now);
    for (const t of due)
      this.ready.push(new SimNode<P>(`node-${String(this.made++).padStart(3, '0')}`, t, this.settings.group));
    this.peakNodes = Math.max(this.peakNodes, this.ready.length);
  }

  /** Places pending pods, oldest first, each on its best-scoring node; returns those placed. */
  schedule(pending: readonly P[]): { pod: P; node: SimNode<P> }[] {
    const placed: { pod: P; node: SimNode<P> }[] = [];
    for (const pod of pending) {
      let best: SimNode<P> | undefined;
      for (const n of this.ready)
        if (n.fits(pod.requests) && (!best || n.score(pod.requests) > best.score(pod.requests))) best = n;
      if (!best) continue;
      best.add(pod);
      placed.push({ pod, node: best });
    }
    return placed;
  }

  /** One autoscaler scan: scale up for the pods still pending, then scale down empty nodes. */
  scan(now: number, pending: readonly P[]): void {
    const g = this.settings.group;
    // The plan's bins: Ready nodes with what they hold, then the nodes being provisioned, empty.
    const bins = [
      ...this.ready.map((n) => ({ cpu: n.requestedCpu, memory: n.requestedMemory, pods: n.pods.size })),
      ...this.provisioning.map(() => ({ cpu: 0, memory: 0, pods: 0 })),
    ];
    let added = 0;
    for (const pod of pending) {
      const r = pod.requests;
      if (r.cpuMillis > g.cpuMillis || r.memoryBytes > g.memoryBytes) continue; // no node of the group could take it
      let bin = bins.find(
        (b) => b.pods < g.maxPods && b.cpu + r.cpuMillis <= g.cpuMillis && b.memory + r.memoryBytes <= g.memoryBytes,
      );
      if (!bin) {
        if (this.ready.length + this.provisioning.length + added >= g.maxNodes) continue;
        bin = { cpu: 0, memory: 0, pods: 0 };
        bins.push(bin);
        added++;
      }
      bin.cpu += r.cpuMillis;
      bin.memory += r.memoryBytes;
      bin.pods++;
    }
    for (let i = 0; i < added; i++) this.provisioning.push(now + g.provisioningSeconds);
    this.scaleUps += added;
    if (this.provisioning.length) return; // the autoscaler lets a scale-up settle before it scales down
    for (const n of [...this.ready]) {
      if (n.pods.size) {
        n.emptySince = undefined;
        continue;
      }
      n.emptySince ??= now;
      if (now - n.emptySince < this.settings.autoscaler.scaleDownUnneededSeconds || this.ready.length <= g.minNodes)
        continue;
      this.ready.splice(this.ready.indexOf(n), 1);
      this.lifetimes.push({ readyAt: n.readyAt, removedAt: now });
    }
  }

  /** When an idle cluster next changes by itself: the scan that removes its first empty node. */
  nextScaleDownAt(nextScanAt: number): number {
    const { scanIntervalSeconds, scaleDownUnneededSeconds } = this.settings.autoscaler;
    if (!this.ready.length || this.ready.length <= this.settings.group.minNodes) return Infinity;
    if (this.ready.some((n) => n.emptySince === undefined)) return nextScanAt;
    const due = Math.min(...this.ready.map((n) => n.emptySince! + scaleDownUnneededSeconds));
    return due <= nextScanAt
      ? nextScanAt
      : nextScanAt + Math.ceil((due - nextScanAt) / scanIntervalSeconds) * scanIntervalSeconds;
  }

  /** Nodes still up at the end of the run are closed off at `now`. */
  close(now: number): void {
    for (const n of this.ready) this.lifetimes.push({ readyAt: n.readyAt, removedAt: now });
  }
}
