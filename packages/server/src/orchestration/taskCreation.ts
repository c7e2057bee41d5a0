import { newId } from '../crypto/tokens.js';
import type { SealedStore } from '../store/sealedStore.js';

export const DEPLOY_TASK_KIND = 'deploy';

/** What a deployment task carries from step to step. Its output variables are on its operations (see outputVariables.ts). */
export interface TaskContext {
  deploymentId: string;
  releaseId: string;
  releaseVersion: string;
  projectName: string;
  environmentId: string;
  environmentName: string;
}

/** A task as it was written: what the task runner starts it from, without reading it back. */
export interface CreatedTask {
  id: string;
  context: TaskContext;
  createdAt: number;
}

/**
 * Writes a queued deployment task with its context sealed. The store may be a transaction, so the
 * deployment that owns the task is written with it or not at all; start it once that is committed.
 */
export async function createDeploymentTask(
  store: SealedStore,
  context: TaskContext,
  createdAt: number,
): Promise<CreatedTask> {
  const id = await insertTask(store, {
    kind: DEPLOY_TASK_KIND,
    description: `Deploy ${context.projectName} release ${context.releaseVersion} to ${context.environmentName}`,
    context,
    createdAt,
  });
  return { id, context, createdAt };
}

/** Writes a queued task of any kind, its context sealed (it may hold secrets); returns its id. */
export async function insertTask(
  store: SealedStore,
  task: { kind: string; description: string; context: object; createdAt: number },
): Promise<string> {
  const id = newId('task');
  await store.db
    .insertInto('tasks')
    .values({
      id,
      kind: task.kind,
      description: task.description,
      state: 'queued',
      current_step: 0,
      failed: 0,
      cancel_requested: 0,
      error: null,
      context: store.box.sealJson(task.context),
      log_seq: 0,
      created_at: task.createdAt,
      started_at: null,
      completed_at: null,
    })
    .execute();
  return id;
}
