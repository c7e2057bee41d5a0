import { PostgresAdapter, sql, type Expression, type Kysely, type RawBuilder, type SelectQueryBuilder } from 'kysely';

/**
 * The few places where SQLite and PostgreSQL need different SQL. Everything else is written once,
 * in the form both accept; a branch belongs here only when no such form exists.
 */
export type SqlDialect = 'sqlite' | 'postgres';

/** Anything that runs SQL: the store, or a transaction on it. */
export type SqlRunner = Pick<Kysely<unknown>, 'getExecutor'>;

/** Which database `db` (or a transaction on it) speaks; read from kysely's adapter, so no one passes it around. */
export function dialectOf(db: SqlRunner): SqlDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Locks the selected rows until the transaction ends, so a read-then-write cannot race another
 * connection; with `skipLocked`, rows another transaction holds are passed over instead of waited
 * for (several workers leasing from one queue each get different operations). SQLite runs one
 * write transaction at a time on our single connection, and its grammar has no FOR UPDATE, which
 * kysely would emit anyway: there the query is left as it is.
 */
export function lockedForUpdate<DB, TB extends keyof DB, O>(
  db: SqlRunner,
  query: SelectQueryBuilder<DB, TB, O>,
  options: { skipLocked?: boolean } = {},
): SelectQueryBuilder<DB, TB, O> {
  if (dialectOf(db) === 'sqlite') return query;
  // The lock an UPDATE that keeps the key takes: it excludes other writers of the row but not an
  // insert elsewhere that refers to it (a new operation of the task, a log chunk of the operation).
  const locked = query.forNoKeyUpdate();
  return options.skipLocked ? locked.skipLocked() : locked;
}

/**
 * The elements of a JSON array of strings as a table `member(value, key)`, key being the position,
 * for `FROM` and `JOIN`: SQLite's json_each, PostgreSQL's jsonb_array_elements_text numbered.
 */
export function jsonArrayMembers(db: SqlRunner, column: string): RawBuilder<unknown> {
  return dialectOf(db) === 'postgres'
    ? sql`jsonb_array_elements_text(${sql.ref(column)}::jsonb) with ordinality as member(value, key)`
    : sql`json_each(${sql.ref(column)}) as member`;
}

/** The larger of two numbers, in the one form both accept (SQLite's max(a, b) is an aggregate on PostgreSQL). */
export function larger(a: Expression<number | null> | RawBuilder<number>, b: number): RawBuilder<number> {
  return sql<number>`case when ${a} > ${b} then ${a} else ${b} end`;
}
