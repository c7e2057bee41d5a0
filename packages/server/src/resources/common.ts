import { Type, type TSchema } from '@sinclair/typebox';
import { sql, type Selectable } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { isUniqueViolation } from '../store/database.js';
import { NAME_KEY_SQL_FUNCTION, NAME_MAX_LENGTH, NAME_PATTERN, NAME_RULE, nameKey } from './names.js';

export const Name = Type.String({
  minLength: 1,
  maxLength: NAME_MAX_LENGTH,
  pattern: NAME_PATTERN,
  description: `a name: ${NAME_RULE}; unique regardless of case and Unicode normalisation`,
});
export const Description = Type.String({ maxLength: 4000, default: '' });
export const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Ref = Type.String({ minLength: 1, maxLength: NAME_MAX_LENGTH, description: 'An id or a name' });
export const RefParams = Type.Object({ ref: Ref });
export const ListOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });
/** A 204: the document shows no body, and none is sent (so a handler's `send()` takes nothing). */
export const NoContent = Type.Unsafe<undefined>(Type.Null({ description: 'Done; there is no body' }));

type NamedTable =
  | 'environments'
  | 'worker_pools'
  | 'targets'
  | 'projects'
  | 'workers'
  | 'machine_policies'
  | 'users'
  | 'teams'
  | 'roles'
  | 'webhooks';
const kindNames: Record<NamedTable, string> = {
  users: 'User',
  teams: 'Team',
  roles: 'Role',
  environments: 'Environment',
  worker_pools: 'Worker pool',
  targets: 'Deployment target',
  projects: 'Project',
  workers: 'Worker',
  machine_policies: 'Machine policy',
  webhooks: 'Webhook',
};

/** The row with this id, or named this by the one name rule (see names.ts); undefined when none. */
export async function lookUpByRef<T extends NamedTable>(
  db: Store,
  table: T,
  ref: string,
): Promise<Selectable<Database[T]> | undefined> {
  const row = await db
    .selectFrom(table as NamedTable)
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb(sql.raw(`${NAME_KEY_SQL_FUNCTION}(name)`), '=', nameKey(ref))]))
    .executeTakeFirst();
  return row as Selectable<Database[T]> | undefined;
}

/** Resolves an id or a name to a row, or throws NOT_FOUND naming what was asked. */
export async function findByRef<T extends NamedTable>(
  db: Store,
  table: T,
  ref: string,
): Promise<Selectable<Database[T]>> {
  const row = await lookUpByRef(db, table, ref);
  if (!row) throw new LongshoreError('NOT_FOUND', `${kindNames[table]} '${ref}' does not exist`, { kind: table, ref });
  return row;
}

/** The row another of the same kind already holds this name by, if any (so a write can refuse it with a 409 first). */
export async function nameHolder(
  db: Store,
  table: NamedTable,
  name: string,
  except?: string,
): Promise<{ id: string; name: string } | undefined> {
  let q = db
    .selectFrom(table)
    .select(['id', 'name'])
    .where(sql.raw(`${NAME_KEY_SQL_FUNCTION}(name)`), '=', nameKey(name));
  if (except !== undefined) q = q.where('id', '!=', except);
  return q.executeTakeFirst();
}

/** The fields every named resource is answered with. */
export const NamedRow = { id: Type.String(), name: Type.String() };

/** Creates a row under a name no row of the table holds yet: the check and the write in one transaction. */
export async function createUnderFreeName(
  ctx: ServerContext,
  table: NamedTable,
  noun: string,
  name: string,
  write: (tx: ServerContext) => Promise<string>,
): Promise<string> {
  return inTransaction(ctx, async (tx) => {
    await assertNameFree(tx.db, table, noun, name);
    return write(tx);
  });
}

/** Refuses a name another row of the table holds (names compare by their key, as the unique index does). */
export async function assertNameFree(
  db: Store,
  table: NamedTable,
  noun: string,
  name: string,
  except?: string,
): Promise<void> {
  const clash = await nameHolder(db, table, name, except);
  if (clash) throw new LongshoreError('CONFLICT', `${noun} named '${clash.name}' already exists`);
}

/** Runs a write and turns a unique-constraint violation into a 409 that names the clash. */
export async function uniquely<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new LongshoreError('CONFLICT', `${what} already exists`);
    throw e;
  }
}

export const now = (): number => Date.now();
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Runs work in one transaction; the context handed in writes through it, so nothing is half-written. */
export function inTransaction<T>(ctx: ServerContext, work: (tx: ServerContext) => Promise<T>): Promise<T> {
  return ctx.db.transaction().execute((trx) => work({ ...ctx, db: trx }));
}
