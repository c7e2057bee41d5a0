import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { lookUpByRef } from './common.js';

/**
 * Objects refer to each other by id, so a rename cannot orphan anything: targets hold environment
 * ids, steps hold worker pool ids, variable scopes hold environment and target ids. The API takes
 * and shows names; these helpers translate at the edge.
 */

type ReferencedTable = 'environments' | 'worker_pools' | 'targets' | 'projects' | 'users' | 'teams' | 'roles';
const kinds: Record<ReferencedTable, string> = {
  projects: 'project',
  users: 'user',
  teams: 'team',
  roles: 'role',
  environments: 'environment',
  worker_pools: 'worker pool',
  targets: 'target',
};

/** Refuses a request with problems (references to nothing, names twice): one 400 listing all of them, prefixed by what they are in. */
export function refuseProblems(problems: readonly string[], within = ''): void {
  if (problems.length > 0)
    throw new LongshoreError('VALIDATION_FAILED', `${within}${problems.join('; ')}`, { problems: [...problems] });
}

/** The ids of what the refs (ids or names) name; each one that names nothing adds a problem at its path. */
export async function resolveRefs(
  db: Store,
  table: ReferencedTable,
  refs: readonly string[],
  path: string,
  problems: string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const id = await resolveRef(db, table, ref, `${path}[${i}]`, problems);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** One reference's id; a reference to nothing adds a problem at `path` instead. */
export async function resolveRef(
  db: Store,
  table: ReferencedTable,
  ref: string,
  path: string,
  problems: string[],
): Promise<string | undefined> {
  const row = await lookUpByRef(db, table, ref);
  if (!row) problems.push(`${path}: ${kinds[table]} '${ref}' does not exist`);
  return row?.id;
}

/** Id to current name, for showing references; these tables are small (people name their rows). */
export async function namesById(db: Store, table: ReferencedTable): Promise<(id: string) => string> {
  const rows = await db.selectFrom(table).select(['id', 'name']).execute();
  const names = new Map(rows.map((r) => [r.id, r.name]));
  return (id) => names.get(id) ?? id;
}

/**
 * Refuses to delete what something still refers to, naming the first user. Ids are random tokens,
 * so finding one quoted in a JSON column cannot match anything else.
 */
export async function assertUnreferenced(
  db: Store,
  table: ReferencedTable,
  row: { id: string; name: string },
): Promise<void> {
  const quoted = `%${JSON.stringify(row.id)}%`;
  const what = `${kinds[table][0]!.toUpperCase()}${kinds[table].slice(1)} '${row.name}'`;
  if (table === 'environments') {
    const target = await db
      .selectFrom('targets')
      .select('name')
      .where('environments', 'like', quoted)
      .executeTakeFirst();
    if (target)
      throw new LongshoreError(
        'CONFLICT',
        `${what} is used by target '${target.name}'; remove it from the target first`,
      );
  }
  if (table === 'worker_pools') {
    const project = await db.selectFrom('projects').select('name').where('process', 'like', quoted).executeTakeFirst();
    if (project)
      throw new LongshoreError(
        'CONFLICT',
        `${what} runs steps of project '${project.name}'; change the project's process first`,
      );
  }
  if (table !== 'worker_pools') {
    const scoped = await db
      .selectFrom('variables')
      .innerJoin('projects', 'projects.id', 'variables.project_id')
      .select(['projects.name as project', 'variables.name as variable'])
      .where('variables.scope', 'like', quoted)
      .executeTakeFirst();
    if (scoped)
      throw new LongshoreError(
        'CONFLICT',
        `${what} scopes variable '${scoped.variable}' of project '${scoped.project}'; change its scope first`,
      );
  }
}
