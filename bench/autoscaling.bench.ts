// bench/autoscaling: the request policies replayed on the same simulated workload (two days of
// deployments over 36 projects) against a modelled autoscaled cluster. Prints the policy table,
// writes it as docs/autoscaling.svg, and says whether `auto` meets the bar. The model and
// its assumptions are described in bench/autoscaling/*.ts and the README's Benchmarks section.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { autoShortfalls, comparePolicies } from './autoscaling/figures.js';
import { policyChart } from './autoscaling/svgChart.js';
import { policyTable } from './autoscaling/table.js';
import { DEFAULT_TRACE } from './autoscaling/trace.js';
import { report } from './stats.js';

export const AUTOSCALING_CHART = fileURLToPath(new URL('../docs/autoscaling.svg', import.meta.url));

export function autoscalingBench(seed = DEFAULT_TRACE.seed): Record<string, number | string | boolean> {
  const started = performance.now();
  const { trace, policies } = comparePolicies({ ...DEFAULT_TRACE, seed });
  const runs = trace.deployments.reduce((a, d) => a + d.chains.flat().length, 0);
  process.stdout.write(`\n${policyTable(policies)}\n`);
  const caption = `seed ${seed}: ${trace.days} days, ${trace.projects.length} projects, ${trace.deployments.length} deployments, ${runs} step runs; 4-vCPU/16-GiB nodes, 90 s provisioning, 10 min scale-down`;
  writeFileSync(AUTOSCALING_CHART, policyChart(policies, caption));
  const shortfalls = autoShortfalls(policies);
  const figures: Record<string, number | string | boolean> = {
    seed,
    deployments: trace.deployments.length,
    'step runs': runs,
  };
  for (const p of policies) {
    figures[`${p.policy}: node-minutes (vs oracle)`] = `${p.nodeMinutes} (${p.ratioToOracle.toFixed(2)}x)`;
    figures[`${p.policy}: wait p50 / p95 s`] = `${p.waitP50Seconds} / ${p.waitP95Seconds}`;
    figures[`${p.policy}: starved / OOM-killed (evicted)`] = `${p.starved} / ${p.oomKilled} (${p.evicted})`;
  }
  figures['auto meets the bar'] = shortfalls.length === 0;
  if (shortfalls.length) figures['auto falls short'] = shortfalls.join('; ');
  figures.chart = 'docs/autoscaling.svg';
  figures['simulation s'] = Number(((performance.now() - started) / 1000).toFixed(1));
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) report('autoscaling', autoscalingBench());
