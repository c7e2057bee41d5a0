// A virtual node: a controller that registers a Node (capacity, allocatable, conditions, the
// kubelet endpoint), keeps its heartbeat Lease in kube-node-lease, watches the pods bound to
// it (fieldSelector spec.nodeName) and runs each with a PodWorker. `streams` runs exec, attach
// and port-forward for the kubelet endpoint. stop() ends those sessions, kills every container's
// process group and, when asked, removes the Node and its Lease.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from '../controllers/events.js';
import { Informer, keyOf } from '../controllers/informer.js';
import type { CgroupDriver } from './cgroups.js';
import type { ContainerRuntime } from './containerRuntime.js';
import type { ImageTable } from './images.js';
import { KubeletServer, type PodStats } from './kubeletServer.js';
import type { ContainerStreams } from './containerStreams.js';
import { LogStore } from './logStore.js';
import { NodeContainerStreams } from './nodeStreams.js';
import { getObject, inClusterEnv, procUsage, requestPodToken, type NodeRuntime } from './nodeRuntime.js';
import { PodWorker } from './podWorker.js';

export interface NodeSpec {
  name: string;
  cpu: string;
  memory: string;
  pods: number;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
}

export interface VirtualNodeOptions {
  node: NodeSpec;
  images: ImageTable;
  /** The API server as pods see it (KUBERNETES_SERVICE_HOST/PORT). */
  apiHost: string;
  apiPort: number;
  caPem: string;
  /** The kubelet endpoint's serving certificate. */
  tls: { key: string; cert: string };
  cgroups: CgroupDriver;
  hostIP?: string;
  containerRuntime: ContainerRuntime;
  /** The node's pod addresses, a /24 (kube-controller-manager's node IPAM gives one per node). */
  podCIDR: string;
  /** The /etc/hosts that resolves Service names for containers of a namespace. */
  hostsFile(namespace: string): string;
  heartbeatMs?: number;
  restartBackoffMs?: number;
  restartBackoffMaxMs?: number;
}

const iso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const microIso = (): string => new Date().toISOString().replace('Z', '000Z');
type Obj = Record<string, unknown>;

export class VirtualNode {
  readonly name: string;
  private readonly logs = new LogStore();
  private readonly workers = new Map<string, PodWorker>();
  private readonly pods: Informer;
  private readonly kubelet: KubeletServer;
  private readonly runtime: NodeRuntime;
  private readonly nodeStreams: NodeContainerStreams;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  private podIPs = 0;
  port = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly o: VirtualNodeOptions,
  ) {
    this.name = o.node.name;
    const podsDir = join(tmpdir(), `longshore-node-${process.pid}-${this.name}`);
    this.runtime = {
      client,
      nodeName: this.name,
      hostIP: o.hostIP ?? '127.0.0.1',
      images: o.images,
      logs: this.logs,
      cgroups: o.cgroups,
      podsDir,
      caPem: o.caPem,
      events: new EventRecorder(client, 'kubelet'),
      restartBackoffMs: o.restartBackoffMs ?? 1_000,
      restartBackoffMaxMs: o.restartBackoffMaxMs ?? 20_000,
      containerRuntime: o.containerRuntime,
      hostsFile: o.hostsFile,
      // .1 is the gateway on a real node; 253 addresses in turn, reused long after their pods are gone.
      nextPodIP: () => `${o.podCIDR.split('.').slice(0, 3).join('.')}.${2 + (this.podIPs++ % 253)}`,
      baseEnv: (pod) => inClusterEnv(o.apiHost, o.apiPort, pod),
      getObject: (r, ns, n) => getObject(client, r, ns, n),
      requestToken: (pod, aud, exp) => requestPodToken(client, pod, aud, exp),
      procUsage,
    };
    this.nodeStreams = new NodeContainerStreams({
      worker: (ns, pod) => this.workers.get(`${ns}/${pod}`),
      logs: this.logs,
      runtime: o.containerRuntime,
    });
    this.pods = new Informer(client, `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.name}`)}`);
    this.pods.on((type, pod) => this.onPod(type, pod));
    this.kubelet = new KubeletServer(
      o.tls,
      this.logs,
      () => this.stats(),
      (ns, pod, c) => this.waitingReason(ns, pod, c),
      this.nodeStreams,
    );
  }

  async start(): Promise<void> {
    mkdirSync(this.runtime.podsDir, { recursive: true });
    this.port = await this.kubelet.listen(this.runtime.hostIP);
    await this.register();
    this.pods.start();
    await this.renewLease();
    this.heartbeat = setInterval(() => void this.renewLease(), this.o.heartbeatMs ?? 10_000);
    this.heartbeat.unref();
  }

  /** exec, attach and port-forward into the pods this node runs. */
  get streams(): ContainerStreams {
    return this.nodeStreams;
  }

  /** Pods this node runs now (not finished), for the autoscaler's tests and the bench. */
  runningPods(): number {
    return this.workers.size;
  }

  async stop(opts: { deleteNode: boolean; graceSeconds?: number } = { deleteNode: false }): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.pods.stop();
    this.nodeStreams.closeAll();
    await Promise.all([...this.workers.values()].map((w) => w.terminate(opts.graceSeconds ?? 2, false)));
    this.workers.clear();
    await this.kubelet.close();
    if (opts.deleteNode) {
      await this.client
        .request('DELETE', apiPath('coordination.k8s.io/v1', 'leases', 'kube-node-lease', this.name))
        .catch(() => undefined);
      await this.client.request('DELETE', apiPath('v1', 'nodes', undefined, this.name)).catch(() => undefined);
    }
    rmSync(this.runtime.podsDir, { recursive: true, force: true });
  }

  private onPod(type: string, pod: K8sObject): void {
    if (this.stopped) return;
    const key = keyOf(pod);
    const w = this.workers.get(key);
    if (type === 'DELETED') {
      this.workers.delete(key);
      if (w) void w.terminate(0, false);
      setTimeout(() => this.logs.forget(String(pod.metadata.namespace), pod.metadata.name), 5_000).unref();
      return;
    }
    if (w) {
      w.update(pod);
      return;
    }
    const phase = String(((pod.status ?? {}) as Obj).phase ?? '');
    if (pod.metadata.deletionTimestamp) {
      // Held by no worker (e.g. from before a restart): nothing runs, confirm the deletion.
      void this.client
        .request('DELETE', apiPath('v1', 'pods', pod.metadata.namespace, pod.metadata.name), {
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid },
        })
        .catch(() => undefined);
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') return;
    this.workers.set(key, new PodWorker(this.runtime, pod));
  }

  /** CPU is a rate (nanocores) between two samples, as metrics-server computes it; the last
   *  sample is kept, and taken twice a short moment apart when there is no recent one. */
  private async stats(): Promise<PodStats[]> {
    const sample = (): Map<string, { t: number; cpu: number; mem: number }> => {
      const m = new Map<string, { t: number; cpu: number; mem: number }>();
      const t = performance.now();
      for (const w of this.workers.values())
        for (const c of w.usage())
          m.set(`${w.namespace}/${w.name}/${c.name}`, { t, cpu: c.cpuNanos, mem: c.memoryBytes });
      return m;
    };
    let before = this.lastSample;
    if (!before || performance.now() - (before.values().next().value?.t ?? 0) > 60_000 || before.size === 0) {
      before = sample();
      await new Promise((r) => setTimeout(r, 300));
    }
    const now = sample();
    this.lastSample = now;
    return [...this.workers.values()].map((w) => ({
      namespace: w.namespace,
      name: w.name,
      containers: w.usage().map((c) => {
        const k = `${w.namespace}/${w.name}/${c.name}`;
        const a = before!.get(k),
          b = now.get(k);
        const rate = a && b && b.t > a.t ? ((b.cpu - a.cpu) / (b.t - a.t)) * 1000 : 0;
        return { name: c.name, cpuNanoCores: Math.max(0, rate), memoryBytes: c.memoryBytes };
      }),
    }));
  }
  private lastSample: Map<string, { t: number; cpu: number; mem: number }> | undefined;

  private waitingReason(ns: string, pod: string, container: string): string | undefined {
    const p = this.pods.get(`${ns}/${pod}`);
    const statuses = [
      ...((((p?.status ?? {}) as Obj).containerStatuses ?? []) as Obj[]),
      ...((((p?.status ?? {}) as Obj).initContainerStatuses ?? []) as Obj[]),
    ];
    const s = statuses.find((c) => c.name === container);
    return ((((s?.state ?? {}) as Obj).waiting ?? {}) as Obj).reason as string | undefined;
  }

  private nodeStatus(): Obj {
    const n = this.o.node;
    const resources = { cpu: n.cpu, memory: n.memory, pods: String(n.pods), 'ephemeral-storage': '100Gi' };
    const t = iso();
    const cond = (type: string, status: string, reason: string, message: string): Obj => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    });
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      // InternalIP only: kube-apiserver tries Hostname first by default, and node names do not resolve.
      addresses: [{ type: 'InternalIP', address: this.runtime.hostIP }],
      daemonEndpoints: { kubeletEndpoint: { Port: this.port } },
      nodeInfo: {
        machineID: this.name,
        systemUUID: this.name,
        bootID: String(process.pid),
        kernelVersion: process.version,
        osImage: 'Longshore sandbox',
        containerRuntimeVersion: 'longshore-sandbox://0.1.0',
        kubeletVersion: 'v1.34.12',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    };
  }

  private async register(): Promise<void> {
    const n = this.o.node;
    const labels = {
      'kubernetes.io/hostname': this.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
      'beta.kubernetes.io/os': 'linux',
      ...n.labels,
    };
    const body = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.name, labels },
      spec: { podCIDR: this.o.podCIDR, podCIDRs: [this.o.podCIDR], ...(n.taints.length ? { taints: n.taints } : {}) },
    };
    const r = await this.client.request('POST', apiPath('v1', 'nodes'), body);
    if (r.status !== 201 && r.status !== 409)
      throw new Error(`registering node ${this.name}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    const s = await this.client.request(
      'PATCH',
      apiPath('v1', 'nodes', undefined, this.name, 'status'),
      { status: this.nodeStatus() },
      'application/merge-patch+json',
    );
    if (s.status !== 200)
      throw new Error(`node ${this.name} status: HTTP ${s.status} ${JSON.stringify(s.body).slice(0, 300)}`);
    // kube-apiserver's TaintNodesByCondition admission taints a new Node not-ready; the node
    // lifecycle controller lifts it once the node is Ready. Where none runs (a bare reference
    // control plane), the node lifts it itself.
    const taints = ((((s.body as Obj).spec ?? {}) as Obj).taints ?? []) as { key: string }[];
    const kept = taints.filter((t) => t.key !== 'node.kubernetes.io/not-ready');
    if (kept.length !== taints.length) {
      await this.client.request(
        'PATCH',
        apiPath('v1', 'nodes', undefined, this.name),
        { spec: { taints: kept.length ? kept : null } },
        'application/merge-patch+json',
      );
    }
  }

  private async renewLease(): Promise<void> {
    const path = apiPath('coordination.k8s.io/v1', 'leases', 'kube-node-lease', this.name);
    const spec = { holderIdentity: this.name, leaseDurationSeconds: 40, renewTime: microIso() };
    try {
      const cur = await this.client.request<K8sObject>('GET', path);
      if (cur.status === 404) {
        await this.client.request('POST', apiPath('coordination.k8s.io/v1', 'leases', 'kube-node-lease'), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.name, namespace: 'kube-node-lease' },
          spec,
        });
        return;
      }
      await this.client.request('PUT', path, { ...cur.body, spec: { ...(cur.body.spec as Obj), ...spec } });
    } catch {
      /* the next heartbeat retries */
    }
  }
}
