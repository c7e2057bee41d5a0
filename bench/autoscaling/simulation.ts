// The simulation: replays a trace against the cluster under one request policy. A clock steps
// `tickSeconds` at a time while anything is pending, running or being provisioned (usage changes
// within a run and CPU is shared continuously, so pods advance tick by tick), and jumps straight
// to the next arrival or scale-down when the cluster is idle. Each pod goes pending -> scheduled
// on a node -> runs its true work, slowed where its node's CPU is contended, and ends completed,
// OOM-killed (over its memory limit) or evicted (its node out of memory). The next step of its
// deployment's target starts when it completes; a killed step ends that target's deployment.
import { Cluster, type ClusterSettings, type Requests, type SimNode } from './cluster.js';
import { evictionVictim, shareCpu } from './contention.js';
import type { MetricsSample, PodResources, RequestPolicy } from './policies.js';
import type { StepRun, Trace } from './trace.js';
import { cpuWantedAt, memoryAt, METRICS_WINDOW_SECONDS } from './usageProfile.js';

/** A run is starved when, for at least a metrics window all told, it wanted this many times its
 *  CPU request on a node whose CPU was all in use, and got less than it wanted. */
const STARVED_OVER_REQUEST = 2;
/** A run this many times slower than uncontended counts as slowed (reported beside starved). */
export const SLOWED_STRETCH = 1.25;
/** A run that lost this share of its time to contention reports itself throttled (CPU pressure). */
const THROTTLED_SHARE = 0.05;

export type Outcome = 'completed' | 'oomKilled' | 'evicted';

export interface PodOutcome {
  stepKey: string;
  waitSeconds: number;
  /** Wall time over the uncontended time of the work it did. */
  stretch: number;
  starved: boolean;
  outcome: Outcome;
}

export interface SimulationResult {
  policy: string;
  nodeLifetimes: { readyAt: number; removedAt: number }[];
  scaleUps: number;
  peakNodes: number;
  pods: PodOutcome[];
}

export interface SimulationOptions {
  cluster: ClusterSettings;
  tickSeconds: number;
}

interface SimPod {
  run: StepRun;
  chain: StepRun[];
  index: number;
  createdAt: number;
  resources: PodResources;
  requests: Requests;
  node?: SimNode<SimPod>;
  startedAt: number;
  progress: number;
  memory: number;
  cpuMilliSeconds: number;
  contendedSeconds: number;
  starvedSeconds: number;
  windowFrom: number;
  windowCpu: number;
  metrics: MetricsSample[];
  measuredPeakMemory: number;
}

export function simulate(trace: Trace, policy: RequestPolicy, options: SimulationOptions): SimulationResult {
  const { tickSeconds } = options;
  const cluster = new Cluster<SimPod>(options.cluster);
  const group = options.cluster.group;
  const scanEvery = options.cluster.autoscaler.scanIntervalSeconds;
  const pending: SimPod[] = [];
  const running = new Set<SimPod>();
  const outcomes: PodOutcome[] = [];
  const deployments = trace.deployments;

  const create = (chain: StepRun[], index: number, at: number): void => {
    const run = chain[index]!;
    const resources = policy.resourcesFor(run);
    pending.push({
      run,
      chain,
      index,
      createdAt: at,
      resources,
      requests: { cpuMillis: resources.cpuMillis, memoryBytes: resources.memoryBytes },
      startedAt: NaN,
      progress: 0,
      memory: 0,
      cpuMilliSeconds: 0,
      contendedSeconds: 0,
      starvedSeconds: 0,
      windowFrom: NaN,
      windowCpu: 0,
      metrics: [],
      measuredPeakMemory: 0,
    });
  };

  const sample = (p: SimPod, at: number): void => {
    if (at <= p.windowFrom) return;
    p.metrics.push({ atSeconds: at, cpuMillis: p.windowCpu / (at - p.windowFrom), memoryBytes: p.memory });
    p.measuredPeakMemory = Math.max(p.measuredPeakMemory, p.memory);
    p.windowFrom = at;
    p.windowCpu = 0;
  };

  const finish = (p: SimPod, at: number, outcome: Outcome): void => {
    p.node!.remove(p);
    running.delete(p);
    sample(p, at);
    const elapsed = at - p.startedAt;
    outcomes.push({
      stepKey: p.run.stepKey,
      waitSeconds: p.startedAt - p.createdAt,
      stretch: p.progress > 0 ? elapsed / p.progress : 1,
      starved: p.starvedSeconds >= METRICS_WINDOW_SECONDS,
      outcome,
    });
    policy.observe({
      stepKey: p.run.stepKey,
      startedAtSeconds: p.startedAt,
      endedAtSeconds: at,
      metrics: p.metrics,
      measured: {
        peakCpuMillis: Math.max(0, ...p.metrics.map((s) => s.cpuMillis)),
        meanCpuMillis: elapsed > 0 ? p.cpuMilliSeconds / elapsed : 0,
        peakMemoryBytes: Math.max(p.measuredPeakMemory, outcome === 'completed' ? 0 : p.memory),
        durationSeconds: elapsed,
        oomKilled: outcome !== 'completed',
        throttled: p.contendedSeconds >= THROTTLED_SHARE * elapsed,
        requests: { ...p.requests },
        ...(p.resources.memoryLimitBytes !== undefined
          ? { limits: { memoryBytes: p.resources.memoryLimitBytes } }
          : {}),
      },
    });
    if (outcome === 'completed' && p.index + 1 < p.chain.length) create(p.chain, p.index + 1, at);
  };

  const advance = (node: SimNode<SimPod>, now: number): void => {
    const pods = [...node.pods];
    const wanted = pods.map((p) => cpuWantedAt(p.run.usage, p.progress));
    const got = shareCpu(
      group.cpuMillis,
      wanted,
      pods.map((p) => p.requests.cpuMillis),
    );
    const full = wanted.reduce((a, w) => a + w, 0) > group.cpuMillis;
    pods.forEach((p, i) => {
      const rate = wanted[i]! > 0 ? got[i]! / wanted[i]! : 1;
      const remaining = p.run.usage.workSeconds - p.progress;
      const dt = rate * tickSeconds >= remaining ? remaining / rate : tickSeconds;
      p.progress += rate * dt;
      p.cpuMilliSeconds += got[i]! * dt;
      p.windowCpu += got[i]! * dt;
      if (rate < 0.98) p.contendedSeconds += dt;
      if (full && rate < 0.98 && wanted[i]! >= STARVED_OVER_REQUEST * p.requests.cpuMillis) p.starvedSeconds += dt;
      p.memory = memoryAt(p.run.usage, p.progress);
      const limit = p.resources.memoryLimitBytes;
      if (limit !== undefined && p.memory > limit) {
        p.memory = limit;
        return finish(p, now + dt, 'oomKilled');
      }
      if (now + dt - p.windowFrom >= METRICS_WINDOW_SECONDS - 1e-9) sample(p, now + dt);
      if (p.progress >= p.run.usage.workSeconds - 1e-9) finish(p, now + dt, 'completed');
    });
    for (;;) {
      const left = [...node.pods];
      if (left.reduce((a, p) => a + p.memory, 0) <= group.memoryBytes) break;
      const victim = evictionVictim(
        left.map((p) => p.memory),
        left.map((p) => p.requests.memoryBytes),
      );
      finish(left[victim]!, now + tickSeconds, 'evicted');
    }
  };

  let now = 0;
  let nextDeployment = 0;
  let nextScanAt = 0;
  for (;;) {
    while (nextDeployment < deployments.length && deployments[nextDeployment]!.atSeconds <= now)
      for (const chain of deployments[nextDeployment++]!.chains) create(chain, 0, now);
    cluster.admitReady(now);
    if (pending.length) {
      for (const { pod, node } of cluster.schedule(pending)) {
        pod.node = node;
        pod.startedAt = now;
        pod.windowFrom = now;
        running.add(pod);
        pending.splice(pending.indexOf(pod), 1);
      }
    }
    if (now >= nextScanAt) {
      cluster.scan(now, pending);
      nextScanAt += scanEvery;
    }
    const idle = !pending.length && !running.size && !cluster.provisioningCount;
    const nextArrival = deployments[nextDeployment]?.atSeconds ?? Infinity;
    if (idle) {
      const until = Math.min(nextArrival, cluster.nextScaleDownAt(nextScanAt));
      if (until === Infinity) break;
      if (until > now + tickSeconds) {
        now += Math.floor((until - now) / tickSeconds) * tickSeconds;
        while (nextScanAt + scanEvery <= now) nextScanAt += scanEvery;
        continue;
      }
    }
    for (const node of cluster.ready) advance(node, now);
    now += tickSeconds;
  }
  cluster.close(now);
  return {
    policy: policy.name,
    nodeLifetimes: cluster.lifetimes,
    scaleUps: cluster.scaleUps,
    peakNodes: cluster.peakNodes,
    pods: outcomes,
  };
}
