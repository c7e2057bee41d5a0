// The request policies compared on the same trace. Policies that learn start each step on the
// pool default (Longshore's script-pod default: 250m / 256Mi, memory limit 1Gi) and learn from
// the runs as they complete, measured as the worker measures them.
import { recommendResources, type MeasuredRun } from '@longshore/server/rightsizing';
import type { StepRun } from './trace.js';
import { Gi, Mi } from './usageProfile.js';
import { VPA_POLL_SECONDS, VpaStepModel } from './vpaModel.js';

export interface PodResources {
  cpuMillis: number;
  memoryBytes: number;
  memoryLimitBytes?: number;
}

export interface MetricsSample {
  atSeconds: number;
  cpuMillis: number;
  memoryBytes: number;
}

export interface FinishedRun {
  stepKey: string;
  startedAtSeconds: number;
  endedAtSeconds: number;
  measured: MeasuredRun;
  /** The run's metrics windows, as metrics.k8s.io serves them: CPU used in each, averaged, and
   *  the working set at its end. */
  metrics: MetricsSample[];
}

export interface RequestPolicy {
  readonly name: PolicyName;
  resourcesFor(run: StepRun): PodResources;
  observe(run: FinishedRun): void;
}

export type PolicyName = 'octopus-default' | 'generous-fixed' | 'vpa-model' | 'auto' | 'oracle';
export const POLICY_NAMES: readonly PolicyName[] = ['octopus-default', 'generous-fixed', 'vpa-model', 'auto', 'oracle'];

export const POOL_DEFAULT: PodResources = { cpuMillis: 250, memoryBytes: 256 * Mi, memoryLimitBytes: 1 * Gi };
export const MAX_ALLOWED = { cpuMillis: 4000, memoryBytes: 8 * Gi };
export const AUTO_OPTIONS = { minSamples: 3, cpuFloorMillis: 10, memoryFloorBytes: 64 * Mi, maxAllowed: MAX_ALLOWED };

const fixed = (name: PolicyName, resources: PodResources): RequestPolicy => ({
  name,
  resourcesFor: () => resources,
  observe: () => undefined,
});

/** Requests the run's own measured peaks: perfect foresight, the limit no policy can beat without contention. */
const oracle: RequestPolicy = {
  name: 'oracle',
  resourcesFor: (run) => ({ cpuMillis: run.measuredPeakCpuMillis, memoryBytes: run.usage.peakMemoryBytes }),
  observe: () => undefined,
};

function vpaPolicy(halfLifeSeconds: number): RequestPolicy {
  const models = new Map<string, VpaStepModel>();
  const limitRatio = POOL_DEFAULT.memoryLimitBytes! / POOL_DEFAULT.memoryBytes;
  return {
    name: 'vpa-model',
    resourcesFor(run) {
      const r = models.get(run.stepKey)?.recommendation();
      if (!r) return POOL_DEFAULT;
      const cpuMillis = Math.min(MAX_ALLOWED.cpuMillis, r.cpuMillis);
      const memoryBytes = Math.min(MAX_ALLOWED.memoryBytes, r.memoryBytes);
      return { cpuMillis, memoryBytes, memoryLimitBytes: memoryBytes * limitRatio };
    },
    observe(run) {
      let model = models.get(run.stepKey);
      if (!model) models.set(run.stepKey, (model = new VpaStepModel(halfLifeSeconds)));
      const seen = vpaPolls(run);
      for (const s of seen) model.addCpuSample(s.cpuMillis, run.measured.requests.cpuMillis, s.atSeconds);
      const peak = seen.length ? Math.max(...seen.map((s) => s.memoryBytes)) : undefined;
      model.addRun(peak, run.measured.requests.memoryBytes, run.measured.oomKilled, run.endedAtSeconds);
    },
  };
}

/** What the VPA recommender sees of a run: at each of its minute ticks while the pod ran, the
 *  latest metrics window the pod had then. */
function vpaPolls(run: FinishedRun): MetricsSample[] {
  const seen: MetricsSample[] = [];
  const first = Math.ceil(run.startedAtSeconds / VPA_POLL_SECONDS) * VPA_POLL_SECONDS;
  for (let at = first; at < run.endedAtSeconds; at += VPA_POLL_SECONDS) {
    const latest = run.metrics.filter((m) => m.atSeconds <= at).at(-1);
    if (latest) seen.push({ ...latest, atSeconds: at });
  }
  return seen;
}

/** Longshore's `auto`: the recommender fed with each step's measured runs. */
function autoPolicy(): RequestPolicy {
  const runs = new Map<string, MeasuredRun[]>();
  return {
    name: 'auto',
    resourcesFor(run) {
      const r = recommendResources(runs.get(run.stepKey) ?? [], AUTO_OPTIONS);
      if (r.state === 'learning') return POOL_DEFAULT;
      return {
        cpuMillis: r.cpuMillis,
        memoryBytes: r.memoryBytes,
        ...(r.memoryLimitBytes !== undefined ? { memoryLimitBytes: r.memoryLimitBytes } : {}),
      };
    },
    observe(run) {
      const list = runs.get(run.stepKey) ?? [];
      list.push(run.measured);
      runs.set(run.stepKey, list.slice(-50));
    },
  };
}

/** A fresh policy (the learning ones keep state for one simulation). */
export function makePolicy(name: PolicyName, traceSeconds: number): RequestPolicy {
  switch (name) {
    case 'octopus-default':
      return fixed(name, { cpuMillis: 25, memoryBytes: 100 * Mi });
    case 'generous-fixed':
      return fixed(name, { cpuMillis: 1000, memoryBytes: 1 * Gi });
    case 'vpa-model':
      return vpaPolicy(traceSeconds / 8);
    case 'auto':
      return autoPolicy();
    case 'oracle':
      return oracle;
  }
}
