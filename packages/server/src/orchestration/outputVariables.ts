import type { OutputVariable } from '@longshore/protocol';
import type { ServerContext } from '../context.js';

/** The names later steps know an output variable by: per step, and per step and target. */
export function outputVariableNames(step: string, target: string | null, name: string): string[] {
  const names = [`Longshore.Action[${step}].Output.${name}`];
  if (target !== null) names.push(`Longshore.Action[${step}].Output[${target}].${name}`);
  return names;
}

/**
 * The output variables of a task's operations as a step about to be planned sees them, read from
 * the operations in the order they finished: a later value replaces an earlier one of the same
 * name. Kept in the task instead, they were a record rewritten after every operation that grew with
 * each one, quadratic over a step on thousands of targets; this reads them once per step.
 */
export async function taskOutputs(ctx: Pick<ServerContext, 'db' | 'box'>, taskId: string): Promise<OutputVariable[]> {
  const rows = await ctx.db
    .selectFrom('operations')
    .select(['step_name', 'target_name', 'output_variables'])
    .where('task_id', '=', taskId)
    .where('output_variables', 'is not', null)
    .orderBy('finished_at')
    .orderBy('created_at')
    .execute();
  const byName = new Map<string, OutputVariable>();
  for (const row of rows) {
    for (const v of ctx.box.openJson<OutputVariable[]>(row.output_variables!)) {
      for (const name of outputVariableNames(row.step_name, row.target_name, v.name)) {
        const key = name.toLowerCase();
        byName.delete(key);
        byName.set(key, { name, value: v.value, sensitive: v.sensitive });
      }
    }
  }
  return [...byName.values()];
}
