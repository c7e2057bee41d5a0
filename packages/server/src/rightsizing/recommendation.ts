// Right-sizing: a step's CPU and memory requests learned from its own recent runs, as a pure
// function of the runs the worker measured (metrics.k8s.io while the script pod ran).
//
// The method, and why each part is what it is:
// - Only the last `windowRuns` runs (default 20) count, so a step that changed (a bigger build,
//   a test suite that grew) is followed within a day or so of deployments, and one odd run
//   long ago does not hold the request up for ever.
// - CPU is the 90th percentile of the runs' PEAK CPU (each run's highest metrics window), plus
//   10%. A percentile over every usage sample of every run (what the Vertical Pod Autoscaler
//   does) is dominated by the quiet stretches of a bursty build, so the request ends up below the
//   compile phases and the pod is throttled whenever its neighbours burst too. The peak of a run
//   the kernel throttled is what it was given, not what it wanted, so it counts 25% higher.
// - Memory is the highest peak in the window plus 20%: memory is not compressible, a pod over
//   its request is the first the kubelet evicts when the node runs short, so no percentile.
// - A run that was OOM-killed needed more than the limit it hit (its measured peak is that
//   limit, or the node's edge): the request becomes at least 1.5 times it, and a memory limit of
//   twice the request is set while such a run is in the window, so the next run has room to show
//   its real peak but a leak still stops before it takes the node's memory from its neighbours.
// - Until `minSamples` runs are in, the state is `learning` and the worker keeps the pool
//   default; one OOM kill makes it `ready` at once, since another run on the default would only
//   be killed again.
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
const CPU_HEADROOM = 1.1;
const THROTTLED_PEAK_FACTOR = 1.25;
const MEMORY_HEADROOM = 1.2;
const OOM_BUMP = 1.5;
const OOM_LIMIT_FACTOR = 2;

/** Nearest-rank percentile of a non-empty list. */
function nearestRank(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}Mi`;

/** Recommends requests for a step from its runs, oldest first, newest last. */
export function recommendResources(runs: readonly MeasuredRun[], options: RecommendationOptions): Recommendation {
  const windowRuns = options.windowRuns ?? DEFAULT_WINDOW_RUNS;
  const window = runs.slice(-windowRuns);
  const { cpuFloorMillis, memoryFloorBytes, maxAllowed } = options;
  const killed = window.filter((r) => r.oomKilled);
  const state = window.length >= options.minSamples || killed.length > 0 ? 'ready' : 'learning';
  if (window.length === 0)
    return {
      state,
      samples: 0,
      cpuMillis: cpuFloorMillis,
      memoryBytes: memoryFloorBytes,
      method: `No runs measured yet: the pool default applies until ${options.minSamples} runs are in.`,
    };

  const cpuPeaks = window.map((r) => (r.throttled ? r.peakCpuMillis * THROTTLED_PEAK_FACTOR : r.peakCpuMillis));
  const cpuPercentile = nearestRank(cpuPeaks, CPU_PERCENTILE);
  const cpuMillis = Math.round(clamp(cpuPercentile * CPU_HEADROOM, cpuFloorMillis, maxAllowed.cpuMillis));

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
    `CPU: the ${CPU_PERCENTILE}th percentile of each run's peak CPU${throttledRuns ? ` (the ${throttledRuns} throttled run${throttledRuns === 1 ? "'s" : "s'"} peak counted 25% higher)` : ''}, ${Math.round(cpuPercentile)}m, plus 10%: ${cpuMillis}m.`,
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
