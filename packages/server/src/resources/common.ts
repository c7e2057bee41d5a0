import { Type, type TSchema } from '@sinclair/typebox';
import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { isUniqueViolation } from '../store/database.js';

export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s].*[^\\s]$|^[^\\s]$', description: 'Unique name, no leading or trailing spaces' });
export const Description = Type.String({ maxLength: 4000, default: '' });
export const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Ref = Type.String({ minLength: 1, maxLength: 200, description: 'An id or a name' });
export const RefParams = Type.Object({ ref: Ref });
export const ListOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });

type NamedTable = 'environments' | 'worker_pools' | 'targets' | 'projects' | 'workers';
const kindNames: Record<NamedTable, string> = {
  environments: 'Environment',
  worker_pools: 'Worker pool',
  targets: 'Deployment target',
  projects: 'Project',
  workers: 'Worker',
};

/** Resolves an id or a (case-insensitive) name to a row, or throws NOT_FOUND naming what was asked. */
export async function findByRef<T extends NamedTable>(db: Store, table: T, ref: string): Promise<Database[T]> {
  const row = await db
    .selectFrom(table as NamedTable)
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
    .executeTakeFirst();
  if (!row) throw new LongshoreError('NOT_FOUND', `${kindNames[table]} '${ref}' does not exist`, { kind: table, ref });
  return row as Database[T];
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
