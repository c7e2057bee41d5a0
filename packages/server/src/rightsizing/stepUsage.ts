import type { Resources } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { DEFAULT_WINDOW_RUNS, recommendResources, type MeasuredRun, type Recommendation } from './recommendation.js';

/**
 * The options every recommendation is made with. The cap is the worker's to apply (its
 * scriptPods.resources.maxAllowed holds an `auto` step's requests), so here it is only a guard
 * against absurd numbers; the floors keep a step that measured nearly nothing schedulable.
 */
export const RECOMMENDATION_OPTIONS = {
  minSamples: 3,
  cpuFloorMillis: 10,
  memoryFloorBytes: 32 * 2 ** 20,
  maxAllowed: { cpuMillis: 64_000, memoryBytes: 256 * 2 ** 30 },
} as const;

export interface StepRun extends MeasuredRun {
  operationId: string;
  poolId: string;
  recordedAt: number;
  samples: number;
}

/** A step's measured runs, oldest first: the newest `limit` of them. */
export async function stepRuns(
  db: Store,
  projectId: string,
  stepName: string,
  limit = DEFAULT_WINDOW_RUNS,
): Promise<StepRun[]> {
  const rows = await db
    .selectFrom('operation_usage')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('step_name', '=', stepName)
    .orderBy('recorded_at', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map((r) => ({
    operationId: r.operation_id,
    poolId: r.pool_id,
    recordedAt: r.recorded_at,
    samples: r.samples,
    peakCpuMillis: r.peak_cpu_millis,
    meanCpuMillis: r.mean_cpu_millis,
    peakMemoryBytes: r.peak_memory_bytes,
    durationSeconds: r.duration_seconds,
    oomKilled: r.oom_killed === 1,
    throttled: r.throttled === 1,
    requests: { cpuMillis: r.request_cpu_millis ?? 0, memoryBytes: r.request_memory_bytes ?? 0 },
    ...(r.limit_memory_bytes !== null ? { limits: { memoryBytes: r.limit_memory_bytes } } : {}),
  }));
}

export async function stepRecommendation(db: Store, projectId: string, stepName: string): Promise<Recommendation> {
  return recommendResources(await stepRuns(db, projectId, stepName), RECOMMENDATION_OPTIONS);
}

/** A recommendation as a pod's resources: requests, and a memory limit where the step was OOM-killed. */
export function asResources(r: Recommendation): Resources {
  return {
    requests: { cpu: `${r.cpuMillis}m`, memory: String(r.memoryBytes) },
    ...(r.memoryLimitBytes !== undefined ? { limits: { memory: String(r.memoryLimitBytes) } } : {}),
  };
}

/**
 * What a step set to `auto` runs with: its recommendation once there are enough runs, else
 * nothing of its own (the pool default) while it learns.
 */
export async function autoResources(db: Store, deploymentId: string, stepName: string): Promise<Resources | undefined> {
  const deployment = await db
    .selectFrom('deployments')
    .select('project_id')
    .where('id', '=', deploymentId)
    .executeTakeFirst();
  if (!deployment) return undefined;
  const recommendation = await stepRecommendation(db, deployment.project_id, stepName);
  return recommendation.state === 'ready' ? asResources(recommendation) : undefined;
}
