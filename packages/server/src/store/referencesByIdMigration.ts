import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { runMigrationSql } from './migrationSql.js';
import { NAME_KEY_SQL_FUNCTION, nameKey, normaliseName } from '../resources/names.js';

type NamedTable = 'environments' | 'worker_pools' | 'targets' | 'projects' | 'workers';
const NAMED_TABLES: readonly NamedTable[] = ['environments', 'worker_pools', 'targets', 'projects', 'workers'];
const CONTROL_CHARACTERS = /\p{Cc}/gu;

interface ProcessJson {
  steps?: { runOn?: { pool?: string } }[];
}
interface ScopeJson {
  environments?: string[];
  targets?: string[];
  targetTags?: string[];
}

/**
 * Names become NFC without control characters and unique by the one name rule (names.ts), and
 * references between objects become ids, so a rename no longer orphans anything:
 * targets.environments, a project's steps' runOn.pool, and variables' scope environments and
 * targets. A reference that names nothing is kept as it was: it matched nothing before and still
 * matches nothing (dropping it would widen a variable's scope). Release snapshots are sealed with
 * a key this migration does not hold; the planner still reads names in the snapshots made before.
 */
export async function referencesById(db: Kysely<Database>): Promise<void> {
  const environmentIds = await idsByNameKey(db, 'environments');
  const poolIds = await idsByNameKey(db, 'worker_pools');
  const targetIds = await idsByNameKey(db, 'targets');
  for (const table of NAMED_TABLES) await normaliseNames(db, table);

  const byId = (ids: NameIndex) => (refs: string[] | undefined) => refs?.map((r) => idFor(ids, r) ?? r);
  const environmentsById = byId(environmentIds);
  for (const t of await db.selectFrom('targets').select(['id', 'environments']).execute()) {
    const ids = [...new Set(environmentsById(JSON.parse(t.environments) as string[]))];
    await db
      .updateTable('targets')
      .set({ environments: JSON.stringify(ids) })
      .where('id', '=', t.id)
      .execute();
  }
  for (const p of await db.selectFrom('projects').select(['id', 'process']).execute()) {
    const process = JSON.parse(p.process) as ProcessJson;
    for (const step of process.steps ?? []) {
      if (step.runOn?.pool !== undefined) step.runOn.pool = idFor(poolIds, step.runOn.pool) ?? step.runOn.pool;
    }
    await db
      .updateTable('projects')
      .set({ process: JSON.stringify(process) })
      .where('id', '=', p.id)
      .execute();
  }
  const targetsById = byId(targetIds);
  for (const v of await db.selectFrom('variables').select(['id', 'scope']).execute()) {
    const scope = JSON.parse(v.scope) as ScopeJson;
    const environments = environmentsById(scope.environments);
    const targets = targetsById(scope.targets);
    const rewritten = { ...scope, ...(environments ? { environments } : {}), ...(targets ? { targets } : {}) };
    await db
      .updateTable('variables')
      .set({ scope: JSON.stringify(rewritten) })
      .where('id', '=', v.id)
      .execute();
  }
}

interface NameIndex {
  exact: Map<string, string>;
  byKey: Map<string, string>;
}

/** Ids by their names as stored before this migration, which is what references hold. */
async function idsByNameKey(db: Kysely<Database>, table: NamedTable): Promise<NameIndex> {
  const rows = await db.selectFrom(table).select(['id', 'name']).orderBy('id').execute();
  const index: NameIndex = { exact: new Map(), byKey: new Map() };
  for (const r of rows) {
    index.exact.set(r.name, r.id);
    if (!index.byKey.has(nameKey(r.name))) index.byKey.set(nameKey(r.name), r.id);
  }
  return index;
}

/** References were written with the exact stored name, or typed by a user in another case. */
const idFor = (index: NameIndex, ref: string): string | undefined =>
  index.exact.get(ref) ?? index.byKey.get(nameKey(ref));

/**
 * Cleans each name and, where two rows now share one by the name rule, keeps the older one's and
 * gives the newer the id as a suffix. Changed rows go through their id first, so that no
 * intermediate state clashes with the old NOCASE unique constraint.
 */
async function normaliseNames(db: Kysely<Database>, table: NamedTable): Promise<void> {
  const created = table === 'workers' ? 'registered_at' : 'created_at';
  const rows = await db.selectFrom(table).select(['id', 'name']).orderBy(sql.ref(created)).orderBy('id').execute();
  const taken = new Set<string>();
  const renamed: { id: string; name: string }[] = [];
  for (const row of rows) {
    let name = normaliseName(row.name).replace(CONTROL_CHARACTERS, '').trim() || row.id;
    if (taken.has(nameKey(name))) name = `${name} (${row.id})`;
    taken.add(nameKey(name));
    if (name !== row.name) renamed.push({ id: row.id, name });
  }
  for (const r of renamed) await db.updateTable(table).set({ name: r.id }).where('id', '=', r.id).execute();
  for (const r of renamed) await db.updateTable(table).set({ name: r.name }).where('id', '=', r.id).execute();
  await runMigrationSql(db, `CREATE UNIQUE INDEX ${table}_name_key ON ${table}(${NAME_KEY_SQL_FUNCTION}(name))`);
}
