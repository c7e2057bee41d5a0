import { Type, type Static } from '@sinclair/typebox';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { newId } from '../crypto/tokens.js';
import { VariableScope, type VariableInput } from './processSchema.js';
import { duplicateNameProblems, nameKey, normaliseName } from './names.js';
import { namesById, refuseProblems, resolveRefs } from './references.js';

export const Variable = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** null for a sensitive variable: its value is never returned. */
  value: Type.Union([Type.String(), Type.Null()]),
  sensitive: Type.Boolean(),
  scope: VariableScope,
});

/** As stored and snapshotted: scope environments and targets are ids (see references.ts). */
export interface StoredVariable {
  name: string;
  value: string;
  sensitive: boolean;
  scope: VariableScope;
}

type VariableRow = Database['variables'];

/** One key per (name, scope): order and case within the scope do not make another variable. */
function scopeKey(name: string, scope: VariableScope): string {
  const sorted = (list: string[] | undefined, key: (s: string) => string) => [...new Set((list ?? []).map(key))].sort();
  return JSON.stringify([
    nameKey(name),
    sorted(scope.environments, (s) => s),
    sorted(scope.targetTags, (s) => s.toLowerCase()),
    sorted(scope.targets, (s) => s),
  ]);
}

/**
 * The rows that replace a project's variables, checked whole before anything is written: names
 * used twice with one scope, scopes naming what does not exist, sensitive values left out with
 * none stored to keep. Throws VALIDATION_FAILED listing every problem.
 */
export async function variableRows(
  ctx: ServerContext,
  projectId: string | undefined,
  inputs: VariableInput[],
): Promise<Omit<VariableRow, 'project_id'>[]> {
  const problems: string[] = [];
  const resolved: { name: string; scope: VariableScope }[] = [];
  for (const [i, v] of inputs.entries()) {
    const scope: VariableScope = { ...v.scope };
    if (v.scope?.environments)
      scope.environments = await resolveRefs(
        ctx.db,
        'environments',
        v.scope.environments,
        `variables[${i}].scope.environments`,
        problems,
      );
    if (v.scope?.targets)
      scope.targets = await resolveRefs(ctx.db, 'targets', v.scope.targets, `variables[${i}].scope.targets`, problems);
    resolved.push({ name: normaliseName(v.name), scope });
  }
  problems.push(
    ...duplicateNameProblems(
      'variables',
      resolved,
      (v) => scopeKey(v.name, v.scope),
      (v) => v.name,
      ' with the same scope',
    ),
  );
  const current = projectId
    ? await ctx.db.selectFrom('variables').selectAll().where('project_id', '=', projectId).execute()
    : [];
  const kept = new Map(
    current
      .filter((v) => v.sensitive === 1)
      .map((v) => [scopeKey(v.name, JSON.parse(v.scope) as VariableScope), v.value]),
  );
  const rows = inputs.map((v, position) => {
    const { name, scope } = resolved[position]!;
    let value = v.value !== undefined && v.sensitive ? ctx.box.seal(v.value) : v.value;
    if (value === undefined && v.sensitive) value = kept.get(scopeKey(name, scope));
    if (value === undefined) problems.push(`variables[${position}] '${v.name}': value is required`);
    return {
      id: newId('var'),
      position,
      name,
      value: value ?? '',
      sensitive: v.sensitive ? 1 : 0,
      scope: JSON.stringify(scope),
    };
  });
  refuseProblems(problems);
  return rows;
}

export async function writeVariables(
  db: Store,
  projectId: string,
  rows: Omit<VariableRow, 'project_id'>[],
): Promise<void> {
  await db.deleteFrom('variables').where('project_id', '=', projectId).execute();
  const all = rows.map((r) => ({ ...r, project_id: projectId }));
  for (let i = 0; i < all.length; i += 200)
    await db
      .insertInto('variables')
      .values(all.slice(i, i + 200))
      .execute();
}

/** Variables with sensitive values decrypted, for snapshotting into a release. */
export async function loadVariables(ctx: ServerContext, projectId: string): Promise<StoredVariable[]> {
  const rows = await ctx.db
    .selectFrom('variables')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({
    name: r.name,
    value: r.sensitive ? ctx.box.open(r.value) : r.value,
    sensitive: r.sensitive === 1,
    scope: JSON.parse(r.scope) as VariableScope,
  }));
}

/**
 * As the API shows them: sensitive values withheld (revealed only through the route that needs
 * variable:view-sensitive, with `box`), scope references by their current names.
 */
export async function presentVariables(
  db: Store,
  projectId: string,
  reveal?: Pick<ServerContext, 'box'>,
): Promise<Static<typeof Variable>[]> {
  const rows = await db
    .selectFrom('variables')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('position')
    .execute();
  const environmentName = await namesById(db, 'environments');
  const targetName = await namesById(db, 'targets');
  return rows.map((v) => {
    const stored = JSON.parse(v.scope) as VariableScope;
    const scope: VariableScope = { ...stored };
    if (stored.environments) scope.environments = stored.environments.map(environmentName);
    if (stored.targets) scope.targets = stored.targets.map(targetName);
    const value = !v.sensitive ? v.value : reveal ? reveal.box.open(v.value) : null;
    return { id: v.id, name: v.name, value, sensitive: v.sensitive === 1, scope };
  });
}
