// Right-sizing: a step's CPU and memory requests learned from its own recent runs, as a pure
// function of the runs the worker measured (metrics.k8s.io while the script pod ran).
//
// The method, and why each part is what it is:
// - Only the last `windowRuns` runs (default 20) count, so a step that changed (a bigger build,
//   a test suite that grew) is followed within a day or so of deployments, and one odd run
//   long ago does not hold the request up for ever.
// - CPU is compressible: a pod on a full node still gets at least its request, so a request
//   below a run's peak costs that run only the time its bursts take longer. Each run's CPU need is
//   the least request that would keep it within 10% of its own time were its node's CPU fully
//   contended: with peak P and mean M, the run spent at most M/P of its time at P, so the need is
//   P·M / (M + 0.1·P). A steady step needs about its peak; a rollout that bursts for its first
//   seconds and then waits needs far less; a build whose compile phases fill half the run needs
//   most of its peak. The request is the 90th percentile of the needs. (A percentile over every
//   usage sample, as the Vertical Pod Autoscaler takes, ignores how long the bursts last, and
//   a run's peak alone pays for a burst of seconds for the whole run.) A throttled run's
//   figures are what it was given, not what it wanted, so its need counts 25% higher.
// - Memory is the highest peak in the window plus 20%: memory is not compressible, a pod over
//   its request is the first the kubelet evicts when the node runs short, so no percentile.
// - A run that was OOM-killed needed more than the limit it hit (its measured peak is that
//   limit, or the node's edge): the request becomes at least 1.5 times it, and a memory limit of
//   twice the request is set while such a run is in the window, so the next run has room to show
//   its real peak but a leak still stops before it takes the node's memory from its neighbours.
// - Until `minSamples` runs are in, the state is `learning` and the worker keeps the pool
//   default, so a step is not cut below it on the word of one or two runs. A run that outgrew
//   the requests it had (OOM-killed, or its CPU need or memory peak over 1.5 times its request)
//   makes it `ready` at once: the default is known to be too small, and another run on it would
//   only be killed or starved again.
// - The result is held between the floors and `maxAllowed` (the same cap steps' own requests
//   are held to).

export interface MeasuredRun {
  /** The highest CPU use in one metrics window of the run (millicores). */
  peakCpuMillis: number;
  meanCpuMillis: number;
  peakMemoryBytes: number;
  durationSeconds: number;
  oomKilled: boolean;
  /** The kernel throttled the container (CFS quota or contention) during the run. */
  throttled: boolean;
  requests: { cpuMillis: number; memoryBytes: number };
  /** The memory limit the run had, where it had one. */
  limits?: { memoryBytes?: number };
}

export interface RecommendationOptions {
  /** Runs needed before the recommendation replaces the pool default (an OOM kill needs one). */
  minSamples: number;
  cpuFloorMillis: number;
  memoryFloorBytes: number;
  maxAllowed: { cpuMillis: number; memoryBytes: number };
  /** How many of the newest runs count. Default 20. */
  windowRuns?: number;
}

export interface Recommendation {
  state: 'ready' | 'learning';
  /** Runs the recommendation is computed from (the window, at most `windowRuns`). */
  samples: number;
  cpuMillis: number;
  memoryBytes: number;
  /** Set while an OOM-killed run is in the window. */
  memoryLimitBytes?: number;
  /** The method in words, with the figures it came from, for the people who read it. */
  method: string;
}

export const DEFAULT_WINDOW_RUNS = 20;
const CPU_PERCENTILE = 90;
/** The share of its own time a run may lose to contention at its request. */
const SLOWDOWN_BUDGET = 0.1;
const THROTTLED_FACTOR = 1.25;
/** A run that used this many times its request shows the request too small. */
const OUTGROWN = 1.5;
const MEMORY_HEADROOM = 1.2;
const OOM_BUMP = 1.5;
const OOM_LIMIT_FACTOR = 2;

/** Nearest-rank percentile of a non-empty list. */
function nearestRank(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The least request that keeps a run within SLOWDOWN_BUDGET of its time on a fully contended node. */
function cpuNeed(r: MeasuredRun): number {
  const peak = Math.max(r.peakCpuMillis, r.meanCpuMillis);
  if (peak <= 0) return 0;
  return (peak * r.meanCpuMillis) / (r.meanCpuMillis + SLOWDOWN_BUDGET * peak);
}

const outgrewRequests = (r: MeasuredRun): boolean =>
  r.oomKilled || cpuNeed(r) > OUTGROWN * r.requests.cpuMillis || r.peakMemoryBytes > OUTGROWN * r.requests.memoryBytes;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}Mi`;

/** Recommends requests for a step from its runs, oldest first, newest last. */
export function recommendResources(runs: readonly MeasuredRun[], options: RecommendationOptions): Recommendation {
  const windowRuns = options.windowRuns ?? DEFAULT_WINDOW_RUNS;
  const window = runs.slice(-windowRuns);
  const { cpuFloorMillis, memoryFloorBytes, maxAllowed } = options;
  const killed = window.filter((r) => r.oomKilled);
  const state = window.length >= options.minSamples || window.some(outgrewRequests) ? 'ready' : 'learning';
  if (window.length === 0)
    return {
      state,
      samples: 0,
      cpuMillis: cpuFloorMillis,
      memoryBytes: memoryFloorBytes,
      method: `No runs measured yet: the pool default applies until ${options.minSamples} runs are in.`,
    };

  const cpuNeeds = window.map((r) => cpuNeed(r) * (r.throttled ? THROTTLED_FACTOR : 1));
  const cpuMillis = Math.round(clamp(nearestRank(cpuNeeds, CPU_PERCENTILE), cpuFloorMillis, maxAllowed.cpuMillis));

  const highestPeak = Math.max(...window.map((r) => r.peakMemoryBytes));
  const oomNeed = Math.max(0, ...killed.map((r) => Math.max(r.peakMemoryBytes, r.limits?.memoryBytes ?? 0) * OOM_BUMP));
  const memoryBytes = Math.round(
    clamp(Math.max(highestPeak * MEMORY_HEADROOM, oomNeed), memoryFloorBytes, maxAllowed.memoryBytes),
  );
  const memoryLimitBytes = killed.length
    ? Math.round(Math.min(memoryBytes * OOM_LIMIT_FACTOR, maxAllowed.memoryBytes))
    : undefined;

  const throttledRuns = window.filter((r) => r.throttled).length;
  const method = [
    `From the last ${window.length} run${window.length === 1 ? '' : 's'} (at most ${windowRuns} count).`,
    `CPU: the ${CPU_PERCENTILE}th percentile of each run's need, the least request that keeps it within 10% of its time on a full node (peak × mean / (mean + 0.1 × peak))${throttledRuns ? `, the ${throttledRuns} throttled run${throttledRuns === 1 ? "'s" : "s'"} counted 25% higher` : ''}: ${cpuMillis}m.`,
    `Memory: the highest peak, ${mib(highestPeak)}, plus 20%${killed.length ? `, and at least 1.5 times the limit the ${killed.length} OOM-killed run${killed.length === 1 ? '' : 's'} hit` : ''}: ${mib(memoryBytes)}.`,
    memoryLimitBytes !== undefined
      ? `Memory limit ${mib(memoryLimitBytes)} (twice the request) while an OOM-killed run is among them.`
      : '',
    `Held between ${cpuFloorMillis}m/${mib(memoryFloorBytes)} and ${maxAllowed.cpuMillis}m/${mib(maxAllowed.memoryBytes)}.`,
    state === 'learning'
      ? `Learning: the pool default applies until ${options.minSamples} runs are in (${window.length} so far).`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    state,
    samples: window.length,
    cpuMillis,
    memoryBytes,
    ...(memoryLimitBytes !== undefined ? { memoryLimitBytes } : {}),
    method,
  };
}
