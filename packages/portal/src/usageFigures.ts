import type { StepUsage } from '@longshore/client';
import { formatCpu, formatMemory, quantityValue } from './quantities.js';

/** CPU in millicores and memory in bytes; either is unknown when nothing says it. */
export interface RequestFigures {
  cpuMillis?: number;
  memoryBytes?: number;
}

/** What the step asks for now, as people write it: its own requests, "auto", or the pool's default. */
export function requestedText(usage: StepUsage): string {
  const { resources } = usage;
  if (resources === 'auto') return 'auto';
  const requests = resources?.requests;
  const own = [
    requests?.cpu !== undefined ? `CPU ${requests.cpu}` : '',
    requests?.memory !== undefined ? `memory ${requests.memory}` : '',
  ].filter(Boolean);
  return own.length > 0 ? own.join(', ') : 'pool default';
}

/**
 * What the step's next run would request: the recommendation for a step set to `auto` once it is
 * ready, else the step's own requests; what the step does not ask for itself is the pool's
 * default, which only the newest run knows (the portal is not told the pools' defaults).
 */
export function currentRequest(usage: StepUsage): RequestFigures {
  const { resources, recommendation } = usage;
  if (resources === 'auto' && recommendation.state === 'ready')
    return { cpuMillis: recommendation.cpuMillis, memoryBytes: recommendation.memoryBytes };
  const newest = usage.runs.at(-1)?.requests;
  const own = resources === 'auto' ? undefined : resources?.requests;
  const cores = quantityValue(own?.cpu);
  return {
    cpuMillis: cores === undefined ? newest?.cpuMillis : cores * 1000,
    memoryBytes: quantityValue(own?.memory) ?? newest?.memoryBytes,
  };
}

/** The recommendation in a few words: "900m CPU, 240Mi memory, limit 1536Mi", or "learning (2 runs)". */
export function recommendationText(usage: StepUsage): string {
  const r = usage.recommendation;
  if (r.state === 'learning') return `learning (${r.samples} ${r.samples === 1 ? 'run' : 'runs'})`;
  const limit = r.memoryLimitBytes === undefined ? '' : `, limit ${formatMemory(r.memoryLimitBytes)}`;
  return `${formatCpu(r.cpuMillis)} CPU, ${formatMemory(r.memoryBytes)} memory${limit}`;
}

export const peakCpu = (usage: StepUsage): number => Math.max(...usage.runs.map((r) => r.peakCpuMillis));
export const peakMemory = (usage: StepUsage): number => Math.max(...usage.runs.map((r) => r.peakMemoryBytes));
export const oomKilledRuns = (usage: StepUsage): number => usage.runs.filter((r) => r.oomKilled).length;
export const throttledRuns = (usage: StepUsage): number => usage.runs.filter((r) => r.throttled).length;
