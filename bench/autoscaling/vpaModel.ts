// The Vertical Pod Autoscaler's recommender, modelled per step (VPA itself cannot serve bare
// script pods: it needs a controller to target). As its recommender does:
// - CPU: every usage sample goes into a decaying histogram weighted by the pod's CPU request
//   (at least 0.1 core); the target is its 90th percentile.
// - Memory: each container's peak goes into a second decaying histogram; an OOM kill adds
//   max(used + 100 MB, used × 1.2) instead, where used is the larger of the request and the
//   peak seen; the target is its 90th percentile.
// - It reads metrics once a minute (its loop interval), for the pods running at that moment: the
//   latest metrics window of each. A pod that lives less than a minute may never be seen.
// - Both get a 15% safety margin and the pod minimums (25m CPU, 250 MiB memory).
// - Histograms have exponential buckets (5% apart) and samples decay with a half-life: VPA's
//   24 h against its 8-day history, here scaled to the trace (the trace's length / 8).
// - A limit keeps its ratio to the request of the pod it replaces (VPA's RequestsAndLimits).

export class DecayingHistogram {
  private readonly weights = new Map<number, number>();
  private total = 0;

  constructor(
    private readonly firstBucketSize: number,
    private readonly halfLifeSeconds: number,
    private readonly ratio = 1.05,
  ) {}

  private bucketOf(value: number): number {
    return Math.max(
      0,
      Math.floor(Math.log((value * (this.ratio - 1)) / this.firstBucketSize + 1) / Math.log(this.ratio)),
    );
  }

  private bucketStart(bucket: number): number {
    return (this.firstBucketSize * (this.ratio ** bucket - 1)) / (this.ratio - 1);
  }

  /** Newer samples weigh more: 2^(t / half-life), as VPA's reference-time scaling does. */
  add(value: number, weight: number, atSeconds: number): void {
    const w = weight * 2 ** (atSeconds / this.halfLifeSeconds);
    const b = this.bucketOf(value);
    this.weights.set(b, (this.weights.get(b) ?? 0) + w);
    this.total += w;
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /** The end of the bucket in which the cumulative weight reaches `p` of the total (VPA's rule). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const threshold = p * this.total;
    let sum = 0;
    for (const b of [...this.weights.keys()].sort((x, y) => x - y)) {
      sum += this.weights.get(b)!;
      if (sum >= threshold) return this.bucketStart(b + 1);
    }
    return 0;
  }
}

/** The recommender's loop interval (--recommender-interval). */
export const VPA_POLL_SECONDS = 60;
const MARGIN = 1.15;
const MIN_CPU_MILLIS = 25;
const MIN_MEMORY_BYTES = 250 * 2 ** 20;
const MIN_CPU_WEIGHT_MILLIS = 100;
const OOM_MIN_BUMP_BYTES = 100 * 1024 * 1024;
const OOM_BUMP_RATIO = 1.2;

export interface VpaRecommendation {
  cpuMillis: number;
  memoryBytes: number;
}

export class VpaStepModel {
  private readonly cpu: DecayingHistogram;
  private readonly memory: DecayingHistogram;

  constructor(halfLifeSeconds: number) {
    this.cpu = new DecayingHistogram(10, halfLifeSeconds);
    this.memory = new DecayingHistogram(1e7, halfLifeSeconds);
  }

  addCpuSample(cpuMillis: number, requestMillis: number, atSeconds: number): void {
    this.cpu.add(cpuMillis, Math.max(requestMillis, MIN_CPU_WEIGHT_MILLIS), atSeconds);
  }

  /** One container's run ended: the peak of what was seen of it (none: nothing to add), or on an
   *  OOM kill the bumped figure in its place. */
  addRun(peakMemoryBytes: number | undefined, requestMemoryBytes: number, oomKilled: boolean, atSeconds: number): void {
    if (!oomKilled) {
      if (peakMemoryBytes !== undefined) this.memory.add(peakMemoryBytes, 1, atSeconds);
      return;
    }
    const used = Math.max(requestMemoryBytes, peakMemoryBytes ?? 0);
    this.memory.add(Math.max(used + OOM_MIN_BUMP_BYTES, used * OOM_BUMP_RATIO), 1, atSeconds);
  }

  recommendation(): VpaRecommendation | undefined {
    if (this.cpu.empty && this.memory.empty) return undefined;
    return {
      cpuMillis: Math.max(MIN_CPU_MILLIS, this.cpu.percentile(0.9) * MARGIN),
      memoryBytes: Math.max(MIN_MEMORY_BYTES, this.memory.percentile(0.9) * MARGIN),
    };
  }
}
