import type { Selectable } from 'kysely';
import { Type, type Static } from '@sinclair/typebox';
import { ACTIVE_OPERATION_STATES, WorkerHealth } from '@longshore/protocol';
import { isOnline } from '../dispatch/workerUsability.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { effectivePolicyId } from '../health/effectivePolicy.js';
import { workerUpgrade } from '../upgrades/workerUpgrade.js';
import { NamedRow, iso, now } from './common.js';

const RunningOperation = Type.Object({
  id: Type.String(),
  taskId: Type.String(),
  task: Type.String({ description: "The task's description, e.g. Deploy Shop 1.0.3 to Production" }),
  step: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union(ACTIVE_OPERATION_STATES.map((s) => Type.Literal(s))),
  startedAt: Type.Union([Type.String(), Type.Null()], { description: 'Null while leased and not yet started' }),
});

export const Worker = Type.Object({
  ...NamedRow,
  executor: Type.String(),
  version: Type.String(),
  pools: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  disabled: Type.Boolean(),
  capacity: Type.Integer(),
  running: Type.Integer(),
  runningOperations: Type.Array(RunningOperation, {
    description: 'The operations it holds now (leased or running), oldest first: `running` of them',
  }),
  metadata: Type.Record(Type.String(), Type.String()),
  lastSeenAt: Type.String(),
  registeredAt: Type.String(),
  health: WorkerHealth,
  healthReasons: Type.Array(Type.String(), { description: 'Why the last check found it unhealthy or unavailable' }),
  healthFacts: Type.Record(Type.String(), Type.String(), { description: 'What the last check measured' }),
  lastHealthCheck: Type.Union([Type.String(), Type.Null()]),
  lastHealthCheckTaskId: Type.Union([Type.String(), Type.Null()], {
    description: "The task of the check that set its health: that task's log has what each check found",
  }),
  machinePolicy: Type.String({ description: "The policy it follows: its own, else its pool's, else the default" }),
  upgradeAvailable: Type.Boolean({ description: "It runs an older Longshore than the server's" }),
  upgradeCommand: Type.Union([Type.String(), Type.Null()], {
    description: 'For a local worker with an upgrade available: how to upgrade it',
  }),
});
export type WorkerView = Static<typeof Worker>;

async function runningOperations(ctx: ServerContext, workerId: string): Promise<WorkerView['runningOperations']> {
  const rows = await ctx.db
    .selectFrom('operations')
    .innerJoin('tasks', 'tasks.id', 'operations.task_id')
    .select([
      'operations.id',
      'operations.task_id',
      'tasks.description',
      'operations.step_name',
      'operations.target_name',
      'operations.state',
      'operations.started_at',
      'operations.created_at',
    ])
    .where('operations.worker_id', '=', workerId)
    .where('operations.state', 'in', ACTIVE_OPERATION_STATES)
    .orderBy('operations.created_at')
    .execute();
  return rows.map((o) => ({
    id: o.id,
    taskId: o.task_id,
    task: o.description,
    step: o.step_name,
    target: o.target_name,
    state: o.state as WorkerView['runningOperations'][number]['state'],
    startedAt: iso(o.started_at),
  }));
}

/** A worker as the API answers it: its pools by name, what it runs now, its health and whether it is behind. */
export async function presentWorker(ctx: ServerContext, row: Selectable<Database['workers']>): Promise<WorkerView> {
  const poolIds = JSON.parse(row.pools) as string[];
  const pools = poolIds.length
    ? await ctx.db.selectFrom('worker_pools').select('name').where('id', 'in', poolIds).orderBy('name').execute()
    : [];
  const operations = await runningOperations(ctx, row.id);
  const policy = await ctx.db
    .selectFrom('workers')
    .innerJoin('machine_policies', (join) => join.on('machine_policies.id', '=', effectivePolicyId(ctx.db)))
    .select('machine_policies.name')
    .where('workers.id', '=', row.id)
    .executeTakeFirstOrThrow();
  const upgrade = workerUpgrade(row, ctx.upgrades.shipped, ctx.endpoint.url);
  const heard = isOnline(row, now(), ctx.config.workerOfflineAfterMs);
  return {
    id: row.id,
    name: row.name,
    executor: row.executor,
    version: row.version,
    pools: pools.map((p) => p.name),
    status: heard ? 'online' : 'offline',
    disabled: row.disabled === 1,
    capacity: row.capacity,
    running: operations.length,
    runningOperations: operations,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    lastSeenAt: iso(row.last_seen_at)!,
    registeredAt: iso(row.registered_at)!,
    health: row.health,
    healthReasons: JSON.parse(row.health_reasons) as string[],
    healthFacts: JSON.parse(row.health_facts) as Record<string, string>,
    lastHealthCheck: iso(row.health_checked_at),
    lastHealthCheckTaskId: row.health_check_task_id,
    machinePolicy: policy.name,
    upgradeAvailable: upgrade.available,
    upgradeCommand: upgrade.command,
  };
}
