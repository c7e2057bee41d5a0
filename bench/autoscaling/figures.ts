// The figures each policy is judged by, and the run of every policy over one trace.
import { percentile } from '../stats.js';
import { DEFAULT_CLUSTER, type ClusterSettings } from './cluster.js';
import { makePolicy, POLICY_NAMES, type PolicyName } from './policies.js';
import { simulate, SLOWED_STRETCH, type SimulationResult } from './simulation.js';
import { generateTrace, type Trace, type TraceOptions } from './trace.js';

export interface PolicyFigures {
  policy: PolicyName;
  nodeMinutes: number;
  /** Node-minutes over the oracle's. */
  ratioToOracle: number;
  waitP50Seconds: number;
  waitP95Seconds: number;
  /** Runs that wanted far over their CPU request on a full node for a metrics window or more. */
  starved: number;
  /** Runs that took at least SLOWED_STRETCH times their uncontended time. */
  slowed: number;
  /** Runs OOM-killed over their limit or evicted for node memory pressure. */
  oomKilled: number;
  evicted: number;
  runs: number;
  scaleUps: number;
  peakNodes: number;
}

export function nodeSeconds(result: SimulationResult): number {
  return result.nodeLifetimes.reduce((a, n) => a + (n.removedAt - n.readyAt), 0);
}

function figures(result: SimulationResult, oracleNodeSeconds: number): PolicyFigures {
  const waits = result.pods.map((p) => p.waitSeconds);
  const seconds = nodeSeconds(result);
  return {
    policy: result.policy as PolicyName,
    nodeMinutes: Math.round(seconds / 60),
    ratioToOracle: Number((seconds / oracleNodeSeconds).toFixed(2)),
    waitP50Seconds: Math.round(percentile(waits, 50)),
    waitP95Seconds: Math.round(percentile(waits, 95)),
    starved: result.pods.filter((p) => p.starved).length,
    slowed: result.pods.filter((p) => p.stretch >= SLOWED_STRETCH).length,
    oomKilled: result.pods.filter((p) => p.outcome !== 'completed').length,
    evicted: result.pods.filter((p) => p.outcome === 'evicted').length,
    runs: result.pods.length,
    scaleUps: result.scaleUps,
    peakNodes: result.peakNodes,
  };
}

export interface Comparison {
  trace: Trace;
  policies: PolicyFigures[];
}

/** Every policy over the same trace, the oracle first as the others' yardstick. */
export function comparePolicies(
  traceOptions: TraceOptions,
  cluster: ClusterSettings = DEFAULT_CLUSTER,
  tickSeconds = 1,
): Comparison {
  const trace = generateTrace(traceOptions);
  const seconds = trace.days * 86_400;
  const results = new Map(
    POLICY_NAMES.map((name) => [name, simulate(trace, makePolicy(name, seconds), { cluster, tickSeconds })]),
  );
  const oracle = nodeSeconds(results.get('oracle')!);
  return { trace, policies: POLICY_NAMES.map((name) => figures(results.get(name)!, oracle)) };
}

/**
 * The bar for `auto`, as the list of conditions it fails (empty: it passes): node-minutes
 * within 15% of the oracle's; better than the VPA model on node-minutes or on starved plus killed
 * runs, and no worse on the other; a p95 wait no worse than generous-fixed's, to the model's
 * clock resolution (waits are counted in whole ticks).
 */
export function autoShortfalls(policies: readonly PolicyFigures[], tickSeconds = 1): string[] {
  const by = (name: PolicyName): PolicyFigures => policies.find((p) => p.policy === name)!;
  const auto = by('auto');
  const vpa = by('vpa-model');
  const generous = by('generous-fixed');
  const problems: string[] = [];
  if (Math.abs(auto.ratioToOracle - 1) > 0.15 + 1e-9)
    problems.push(`auto's node-minutes are ${auto.ratioToOracle}x the oracle's, not within 15%`);
  const autoHarm = auto.starved + auto.oomKilled;
  const vpaHarm = vpa.starved + vpa.oomKilled;
  const dominates =
    (auto.nodeMinutes < vpa.nodeMinutes && autoHarm <= vpaHarm) ||
    (autoHarm < vpaHarm && auto.nodeMinutes <= vpa.nodeMinutes);
  if (!dominates)
    problems.push(
      `auto (${auto.nodeMinutes} node-min, ${autoHarm} starved or killed) does not beat the VPA model (${vpa.nodeMinutes}, ${vpaHarm}) on one without losing on the other`,
    );
  if (auto.waitP95Seconds > generous.waitP95Seconds + tickSeconds)
    problems.push(`auto's p95 wait ${auto.waitP95Seconds}s is worse than generous-fixed's ${generous.waitP95Seconds}s`);
  return problems;
}
