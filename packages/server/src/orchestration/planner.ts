import {
  LongshoreError,
  type Operation,
  type OperationVariable,
  type OutputVariable,
  type Resources,
} from '@longshore/protocol';
import { autoResources } from '../rightsizing/stepUsage.js';
import type { Database } from '../store/schema.js';
import type { SealedStore } from '../store/sealedStore.js';
import { newOperationId } from '../crypto/tokens.js';
import { operationTarget } from '../resources/targets.js';
import { lookUpByRef } from '../resources/common.js';
import { DEFAULT_STEP_TIMEOUT_SECONDS, type Step } from '../resources/processSchema.js';
import type { ReleaseSnapshot } from '../resources/releases.js';
import { newOperationRow } from './operationRow.js';
import { taskOutputs } from './outputVariables.js';
import type { TaskContext } from './taskCreation.js';
import { VariableSet, selectVariables } from './variables.js';

type OperationRow = Database['operations'];

export interface StepPlan {
  poolId: string;
  /** How many operations `operations` yields: one per target, or one on the pool. */
  size: number;
  /** How many of them are queued at once; the rest wait for room under the step's maxParallelism. */
  queued: number;
  onTargets: boolean;
  /** Built as they are read, so that a plan on thousands of targets never sits whole in memory. Throws while building. */
  operations: Iterable<OperationRow>;
}

/**
 * Turns one step into its operations: one per matching target of the environment, or one when the
 * step runs on the pool alone. Variables are resolved per target, so each operation carries
 * exactly the values in scope for it. Throws a user-facing error when the step cannot be planned.
 */
export async function planStep(
  store: SealedStore,
  taskId: string,
  snapshot: ReleaseSnapshot,
  task: TaskContext,
  index: number,
): Promise<StepPlan> {
  const step = snapshot.process.steps[index]!;
  // The pool by id (a name only in releases made before references were ids); no pool is the default one.
  const poolRef = step.runOn?.pool;
  const pool =
    poolRef === undefined
      ? await store.db.selectFrom('worker_pools').select('id').where('is_default', '=', 1).executeTakeFirst()
      : await lookUpByRef(store.db, 'worker_pools', poolRef);
  if (!pool)
    throw new LongshoreError('NOT_FOUND', `Step '${step.name}': worker pool '${poolRef ?? 'default'}' does not exist`);

  const targets = step.runOn?.targetTags
    ? await matchingTargets(store, task.environmentId, step.runOn.targetTags)
    : [null];
  if (targets.length === 0) {
    throw new LongshoreError(
      'NOT_FOUND',
      `Step '${step.name}': no deployment target in environment '${task.environmentName}' has any of the tags ${step.runOn!.targetTags!.join(', ')}`,
    );
  }
  const outputs = await taskOutputs(store, taskId);
  const resources =
    step.resources === 'auto' ? await autoResources(store.db, task.deploymentId, step.name) : step.resources;
  const parallelism = step.runOn?.maxParallelism ?? targets.length;
  const t = Date.now();
  const poolId = pool.id;
  function* operations(): Generator<OperationRow> {
    for (const [i, target] of targets.entries()) {
      const operation = buildOperation(store, taskId, snapshot, task, outputs, index, step, target, resources);
      yield newOperationRow({
        id: operation.id,
        task_id: taskId,
        step_index: index,
        step_name: step.name,
        target_id: target?.id ?? null,
        target_name: target?.name ?? null,
        pool_id: poolId,
        state: i < parallelism ? 'queued' : 'waiting',
        payload: store.box.sealJson(operation),
        // Later targets sort after earlier ones in the queue even within one millisecond.
        created_at: t + i / 1000,
        queued_at: i < parallelism ? t : null,
      });
    }
  }
  return {
    poolId,
    size: targets.length,
    queued: Math.min(parallelism, targets.length),
    onTargets: targets[0] !== null,
    operations: operations(),
  };
}

/** Targets hold environment ids, so a renamed environment keeps its targets. */
async function matchingTargets(store: SealedStore, environmentId: string, tags: readonly string[]) {
  const rows = await store.db.selectFrom('targets').selectAll().orderBy('name').execute();
  const lower = tags.map((x) => x.toLowerCase());
  return rows.filter((r) => {
    const envs = JSON.parse(r.environments) as string[];
    const own = (JSON.parse(r.tags) as string[]).map((x) => x.toLowerCase());
    return envs.includes(environmentId) && own.some((x) => lower.includes(x));
  });
}

function buildOperation(
  store: SealedStore,
  taskId: string,
  snapshot: ReleaseSnapshot,
  task: TaskContext,
  outputs: readonly OutputVariable[],
  index: number,
  step: Step,
  target: Database['targets'] | null,
  resources: Resources | undefined,
): Operation {
  const targetTags = target ? (JSON.parse(target.tags) as string[]) : [];
  // Scopes hold ids, or names in releases made before references were ids.
  const byId = snapshot.references === 'ids';
  const scoped = selectVariables(snapshot.variables, {
    environment: byId ? task.environmentId : task.environmentName,
    ...(target ? { target: { name: byId ? target.id : target.name, tags: targetTags } } : {}),
  });
  const system: OperationVariable[] = [
    ['Longshore.Task.Id', taskId],
    ['Longshore.Deployment.Id', task.deploymentId],
    ['Longshore.Release.Number', task.releaseVersion],
    ['Longshore.Project.Name', task.projectName],
    ['Longshore.Environment.Name', task.environmentName],
    ['Longshore.Step.Name', step.name],
    ['Longshore.Step.Number', String(index + 1)],
    ...(target
      ? [
          ['Longshore.Target.Name', target.name],
          ['Longshore.Target.Tags', targetTags.join(',')],
          ...targetProperties(target),
        ]
      : []),
  ].map(([name, value]) => ({ name: name!, value: value!, sensitive: false }));
  for (const v of [...outputs, ...system]) scoped.set(v.name.toLowerCase(), v);

  const set = new VariableSet(scoped);
  const body = set.substitute(step.script.body, `the script of step '${step.name}'`);
  const variables = set.all();
  const opTarget = target ? operationTarget(store, target) : undefined;
  // The cluster token reaches scripts through the kubeconfig; as a sensitive variable it is also masked.
  if (opTarget?.kubernetes)
    variables.push({ name: 'Longshore.Target.Kubernetes.Token', value: opTarget.kubernetes.token, sensitive: true });
  return {
    id: newOperationId(),
    taskId,
    step: { index, name: step.name },
    ...(opTarget ? { target: opTarget } : {}),
    script: { syntax: step.script.syntax ?? 'sh', body: body.text },
    variables,
    packages: snapshot.stepPackages[index] ?? [],
    ...(step.container ? { container: step.container } : {}),
    ...(resources ? { resources } : {}),
    ...(step.resources === 'auto' ? { resourcesAuto: true } : {}),
    timeoutSeconds: step.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT_SECONDS,
  };
}

/** A generic target's properties (`region: eu-west`), as `Longshore.Target.Properties[region]`, named like `Longshore.Action[Step]`. */
function targetProperties(target: Database['targets']): [string, string][] {
  const stored = JSON.parse(target.properties) as { properties?: Record<string, string> };
  return Object.entries(stored.properties ?? {}).map(([key, value]) => [`Longshore.Target.Properties[${key}]`, value]);
}
