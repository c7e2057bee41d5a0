// What a step really uses while it runs: CPU wanted over the run (a base level with bursts,
// such as a build's compile phases) and memory (rising to a peak, then flat). Each run of a step
// draws its own profile around the step's character, so no two runs are the same.
import type { Random } from './random.js';

export const Mi = 2 ** 20;
export const Gi = 2 ** 30;

/** How often metrics.k8s.io gives a new figure (metrics-server's default resolution): the window
 *  CPU is averaged over, for the worker's measurements and the VPA model's samples alike. */
export const METRICS_WINDOW_SECONDS = 15;

export type StepKind = 'light' | 'deploy' | 'build' | 'memoryHeavy' | 'growing';

export interface CpuBurst {
  fromSeconds: number;
  toSeconds: number;
  cpuMillis: number;
}

/** One run's true usage, as a function of how far its work has got (seconds of uncontended run). */
export interface RunUsage {
  workSeconds: number;
  baseCpuMillis: number;
  /** Sorted, not overlapping. */
  bursts: CpuBurst[];
  startMemoryBytes: number;
  peakMemoryBytes: number;
  /** Share of the run after which memory stays at its peak. */
  memoryRampShare: number;
}

/** A step's character: the centre of what its runs draw. */
export interface StepCharacter {
  kind: StepKind;
  workSeconds: number;
  baseCpuMillis: number;
  burstCpuMillis: number;
  burstSeconds: number;
  bursts: number;
  peakMemoryBytes: number;
  /** For `growing`: the peak at the end of the trace is (1 + growth) times the peak at its start. */
  memoryGrowth: number;
}

export function cpuWantedAt(u: RunUsage, t: number): number {
  for (const b of u.bursts) if (t >= b.fromSeconds && t < b.toSeconds) return b.cpuMillis;
  return u.baseCpuMillis;
}

export function memoryAt(u: RunUsage, t: number): number {
  const ramp = u.memoryRampShare * u.workSeconds;
  const share = ramp <= 0 ? 1 : Math.min(1, t / ramp);
  return u.startMemoryBytes + (u.peakMemoryBytes - u.startMemoryBytes) * share;
}

/** The run's peak CPU as the metrics windows would show it with nothing in its way (the oracle's request). */
export function measuredPeakCpu(u: RunUsage): number {
  let peak = 0;
  for (let from = 0; from < u.workSeconds; from += METRICS_WINDOW_SECONDS) {
    const to = Math.min(u.workSeconds, from + METRICS_WINDOW_SECONDS);
    let sum = 0;
    for (let t = from; t < to; t++) sum += cpuWantedAt(u, t);
    peak = Math.max(peak, sum / Math.max(1, Math.ceil(to - from)));
  }
  return peak;
}

const startsWithBurst = (kind: StepKind): boolean => kind === 'light' || kind === 'deploy';

/** Draws one run of a step. `traceShare` is how far through the trace the run starts (0..1). */
export function drawRun(step: StepCharacter, traceShare: number, rng: Random): RunUsage {
  const workSeconds = Math.max(5, Math.round(step.workSeconds * rng.jitter(0.25)));
  const bursts: CpuBurst[] = [];
  // Bursts go in equal slots of the run, each at a random place in its slot, so they never overlap.
  const slot = workSeconds / Math.max(1, step.bursts);
  for (let i = 0; i < step.bursts; i++) {
    const length = Math.min(slot, step.burstSeconds * rng.jitter(0.3));
    // A script's or a rollout's burst is its start (interpreter, chart render, apply); a build's
    // compile phases fall anywhere.
    const from = startsWithBurst(step.kind) ? 0 : Math.floor(i * slot + rng.uniform(0, slot - length));
    bursts.push({
      fromSeconds: from,
      toSeconds: Math.ceil(from + length),
      cpuMillis: step.burstCpuMillis * rng.jitter(0.1),
    });
  }
  const grown = step.kind === 'growing' ? 1 + step.memoryGrowth * traceShare : 1;
  const peakMemoryBytes = step.peakMemoryBytes * grown * rng.jitter(0.12);
  return {
    workSeconds,
    baseCpuMillis: step.baseCpuMillis * rng.jitter(0.15),
    bursts,
    startMemoryBytes: Math.min(peakMemoryBytes, 20 * Mi),
    peakMemoryBytes,
    memoryRampShare: startsWithBurst(step.kind) ? 0.2 : 0.6,
  };
}

/** The character of a step of the given kind, drawn once per project step. */
export function drawCharacter(kind: StepKind, rng: Random): StepCharacter {
  const s = (lo: number, hi: number): number => rng.uniform(lo, hi);
  switch (kind) {
    case 'light': // a short script: a config render, a notification, a smoke test
      return character(kind, s(15, 60), s(30, 80), s(150, 300), 5, 1, s(40, 100) * Mi);
    case 'deploy': // helm upgrade: render and apply, then mostly waiting for the rollout
      return character(kind, s(40, 150), s(20, 50), s(400, 700), 12, 1, s(120, 250) * Mi);
    case 'build': // compile phases between quiet stretches of fetching and packaging
      return character(kind, s(180, 420), s(250, 450), s(1400, 1900), s(40, 80), rng.int(2, 3), s(600, 1000) * Mi);
    case 'memoryHeavy': // a data import or an integration suite with an in-memory database
      return character(kind, s(120, 240), s(300, 500), s(600, 900), 20, 1, s(1.6, 2.4) * Gi);
    case 'growing': // a migration whose data set grows through the trace
      return { ...character(kind, s(60, 180), s(150, 250), s(400, 600), 10, 1, s(300, 400) * Mi), memoryGrowth: 2.5 };
  }
}

function character(
  kind: StepKind,
  workSeconds: number,
  baseCpuMillis: number,
  burstCpuMillis: number,
  burstSeconds: number,
  bursts: number,
  peakMemoryBytes: number,
): StepCharacter {
  return { kind, workSeconds, baseCpuMillis, burstCpuMillis, burstSeconds, bursts, peakMemoryBytes, memoryGrowth: 0 };
}
