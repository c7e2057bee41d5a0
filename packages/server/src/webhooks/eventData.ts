import type { WorkerHealth } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import type { WorkerHealthChange } from './webhookEvents.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Usable: the dispatcher gives it work (see WorkerHealth). Events fire when a worker crosses this line. */
const usable = (health: WorkerHealth): boolean => health === 'healthy' || health === 'unknown';

/**
 * A deployment's event data, read through the transaction that changed it, so a receiver sees what
 * the change committed. Undefined when the task is not a deployment's (its project was deleted).
 */
export async function deploymentData(db: Store, taskId: string, serverUrl: string) {
  const row = await db
    .selectFrom('deployments')
    .innerJoin('tasks', 'tasks.id', 'deployments.task_id')
    .innerJoin('projects', 'projects.id', 'deployments.project_id')
    .innerJoin('environments', 'environments.id', 'deployments.environment_id')
    .innerJoin('releases', 'releases.id', 'deployments.release_id')
    .select([
      'deployments.id',
      'tasks.state',
      'tasks.error',
      'tasks.started_at',
      'tasks.completed_at',
      'projects.id as project_id',
      'projects.name as project_name',
      'environments.id as environment_id',
      'environments.name as environment_name',
      'releases.id as release_id',
      'releases.version',
    ])
    .where('deployments.task_id', '=', taskId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    deploymentId: row.id,
    taskId,
    state: row.state,
    error: row.state === 'succeeded' ? null : row.error,
    project: { id: row.project_id, name: row.project_name },
    environment: { id: row.environment_id, name: row.environment_name },
    release: { id: row.release_id, version: row.version },
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    /** The task's page in the portal: its log and timeline. */
    url: serverUrl ? `${serverUrl}/tasks/${encodeURIComponent(taskId)}` : null,
  };
}

/**
 * The event a health change is, if any: a worker that stops being usable, or becomes usable again.
 * A first check that finds a new worker healthy, or an unhealthy worker going unavailable, is none.
 */
export function workerHealthEvent(change: WorkerHealthChange): 'worker.unhealthy' | 'worker.healthy' | undefined {
  if (usable(change.before) && !usable(change.after)) return 'worker.unhealthy';
  if (!usable(change.before) && change.after === 'healthy') return 'worker.healthy';
  return undefined;
}

export async function workerData(db: Store, change: WorkerHealthChange) {
  const worker = await db
    .selectFrom('workers')
    .select(['name', 'executor', 'version', 'health_checked_at', 'health_check_task_id'])
    .where('id', '=', change.workerId)
    .executeTakeFirst();
  if (!worker) return undefined;
  return {
    worker: { id: change.workerId, name: worker.name, executor: worker.executor, version: worker.version },
    health: change.after,
    previousHealth: change.before,
    reasons: [...change.reasons],
    checkedAt: iso(worker.health_checked_at),
    /** The health check's task: its log has what each check found. */
    healthCheckTaskId: worker.health_check_task_id,
  };
}
