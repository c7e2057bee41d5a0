import type { ResourceUsage } from '@longshore/protocol';
import type { Store } from '../store/database.js';

/**
 * Keeps what a deployment's operation used, by project, step and pool: what each step's
 * recommendation is learnt from. Operations of other tasks (health checks, upgrades) have no
 * project and are not kept.
 */
export async function recordUsage(db: Store, operationId: string, usage: ResourceUsage): Promise<void> {
  const op = await db
    .selectFrom('operations')
    .innerJoin('deployments', 'deployments.task_id', 'operations.task_id')
    .select(['deployments.project_id', 'operations.step_name', 'operations.pool_id'])
    .where('operations.id', '=', operationId)
    .executeTakeFirst();
  if (!op) return;
  await db
    .insertInto('operation_usage')
    .values({
      operation_id: operationId,
      project_id: op.project_id,
      step_name: op.step_name,
      pool_id: op.pool_id,
      recorded_at: Date.now(),
      samples: usage.samples,
      peak_cpu_millis: usage.peakCpuMillis,
      mean_cpu_millis: usage.meanCpuMillis,
      peak_memory_bytes: usage.peakMemoryBytes,
      duration_seconds: usage.durationSeconds,
      request_cpu_millis: usage.requests.cpuMillis ?? null,
      request_memory_bytes: usage.requests.memoryBytes ?? null,
      limit_cpu_millis: usage.limits.cpuMillis ?? null,
      limit_memory_bytes: usage.limits.memoryBytes ?? null,
      oom_killed: usage.oomKilled ? 1 : 0,
      throttled: usage.throttled ? 1 : 0,
    })
    .onConflict((oc) => oc.column('operation_id').doNothing())
    .execute();
}
