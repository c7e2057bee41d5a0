import type { ResourceUsage } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { stepRecommendation } from './stepUsage.js';

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}Mi`;

/**
 * The task log's line for a script the kernel killed for its memory: how high it got against
 * what it had, and what the step should ask for now, so the person reading it can act.
 */
export async function oomNotice(
  db: Store,
  operationId: string,
  stepName: string,
  usage: ResourceUsage,
): Promise<string> {
  const limit = usage.limits.memoryBytes;
  const had = limit !== undefined ? `a memory limit of ${mib(limit)}` : "its node's memory running out";
  const peak = usage.samples > 0 ? `its memory peaked at ${mib(usage.peakMemoryBytes)}` : 'its memory was not measured';
  const deployment = await db
    .selectFrom('operations')
    .innerJoin('deployments', 'deployments.task_id', 'operations.task_id')
    .select('deployments.project_id')
    .where('operations.id', '=', operationId)
    .executeTakeFirst();
  const advice = deployment
    ? await stepRecommendation(db, deployment.project_id, stepName).then(
        (r) =>
          ` Recommended now: ${mib(r.memoryBytes)} memory${r.memoryLimitBytes !== undefined ? ` (limit ${mib(r.memoryLimitBytes)})` : ''} and ${r.cpuMillis}m CPU; set the step's resources to auto to follow the recommendation.`,
      )
    : '';
  return `Step '${stepName}' was OOM-killed: ${peak}, against ${had}.${advice}`;
}
